#pragma once
#include <string>
#include <vector>

namespace ruralsim {

// `ruralsim archive DIR --out FILE.tar.gz`: inputs, manifest, outputs, SHA256SUMS, VERSIONS,
// README.md (how to verify and re-run), LICENSE and CITATION.cff.
int cmd_archive(const std::vector<std::string>& args);
// `ruralsim verify ARCHIVE|DIR|FILE.h5`: every content hash recomputed from the data.
int cmd_verify(const std::vector<std::string>& args);

}  // namespace ruralsim
