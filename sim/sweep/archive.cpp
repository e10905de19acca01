// `ruralsim archive DIR --out FILE.tar.gz` and `ruralsim verify ARCHIVE|DIR|FILE.h5`.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "build_info.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "git_info.hpp"
#include "run/verify.hpp"
#include "sweep/archive.hpp"

namespace fs = std::filesystem;

namespace ruralsim {
namespace {

const char* const kArchiveHelp = R"(usage: ruralsim archive DIR --out FILE.tar.gz

Packs a sweep directory (or any directory of result files) for publication: the inputs (sweep
file, base scenario, planned scenarios), the manifest, every output, and three files written
into DIR first: SHA256SUMS (SHA-256 of every file), VERSIONS (ruralsim version, git commit,
compiler, libraries) and README.md (the commands to verify and to re-run). LICENSE and
CITATION.cff of the source tree are added when found. Lock and .partial files are left out.
)";

const char* const kVerifyHelp = R"(usage: ruralsim verify ARCHIVE.tar.gz | DIR | FILE.h5

Recomputes the content hash of every result file from its data and compares it with the hash
stored in the file; for an archive or a directory with SHA256SUMS also checks every listed
file's SHA-256. Prints one line per problem, naming the file, and a summary. Exit 0 if
everything verifies, 1 if not, 2 for bad usage.
)";

std::string file_sha256(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  Sha256 sha;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) sha.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  return sha.hex_digest();
}

int run_cmd(const std::vector<std::string>& argv) {
  std::vector<char*> c;
  std::vector<std::string> copy = argv;
  for (auto& s : copy) c.push_back(s.data());
  c.push_back(nullptr);
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execvp(c[0], c.data());
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool skipped(const fs::path& p) {
  const std::string n = p.filename().string();
  auto ends = [&](const char* s) {
    const std::string e = s;
    return n.size() >= e.size() && n.compare(n.size() - e.size(), e.size(), e) == 0;
  };
  return ends(".partial") || ends(".lock") || ends(".tmp");
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && !skipped(e.path())) out.push_back(fs::relative(e.path(), dir));
  std::sort(out.begin(), out.end());
  return out;
}

std::string source_file(const char* name) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  for (const fs::path& d :
       {ec ? fs::path() : exe.parent_path().parent_path(), fs::path(RURALSIM_SOURCE_DIR_STR)})
    if (!d.empty() && fs::exists(d / name)) return (d / name).string();
  return "";
}

struct Tally {
  int checked = 0, failed = 0;
};

void verify_dir(const fs::path& dir, const std::string& label, Tally& t) {
  const fs::path sums = dir / "SHA256SUMS";
  if (fs::exists(sums)) {
    std::ifstream in(sums);
    std::string line;
    while (std::getline(in, line)) {
      if (line.size() < 67) continue;
      const std::string want = line.substr(0, 64), name = line.substr(66);
      ++t.checked;
      if (!fs::exists(dir / name)) {
        ++t.failed;
        std::printf("FAILED %s/%s: listed in SHA256SUMS but missing\n", label.c_str(),
                    name.c_str());
      } else if (file_sha256(dir / name) != want) {
        ++t.failed;
        std::printf("FAILED %s/%s: SHA-256 differs from SHA256SUMS\n", label.c_str(), name.c_str());
      }
    }
  }
  for (const auto& rel : files_in(dir)) {
    if (rel.extension() != ".h5") continue;
    const auto attrs = result_attrs((dir / rel).string());
    if (!attrs.count("content_hash")) continue;  // sweep.h5 and other derived files
    ++t.checked;
    const FileCheck c = verify_result_file((dir / rel).string());
    if (!c.ok) {
      ++t.failed;
      std::printf("FAILED %s/%s: content hash does not verify (stored %s, recomputed %s)%s\n",
                  label.c_str(), rel.string().c_str(), c.stored.substr(0, 16).c_str(),
                  c.computed.substr(0, 16).c_str(),
                  c.computed.empty() ? (" " + c.message).c_str() : "");
    }
  }
}

}  // namespace

int cmd_verify(const std::vector<std::string>& args) {
  if (args.size() == 2 && (args[1] == "--help" || args[1] == "-h")) {
    std::fputs(kVerifyHelp, stdout);
    return 0;
  }
  if (args.size() != 2)
    throw UsageError(std::string("ruralsim verify: expected one path\n\n") + kVerifyHelp);
  const std::string target = args[1];
  if (!fs::exists(target)) throw InputError(target + ": no such file or directory");
  Tally t;
  if (fs::is_directory(target)) {
    verify_dir(target, target, t);
  } else if (target.size() > 3 && target.compare(target.size() - 3, 3, ".h5") == 0) {
    ++t.checked;
    const FileCheck c = verify_result_file(target);
    if (c.ok) {
      std::printf("OK %s: content hash %s verified from the data\n", target.c_str(),
                  c.stored.c_str());
      return 0;
    }
    std::printf("FAILED %s\n", c.message.c_str());
    return 1;
  } else {
    const fs::path tmp =
        fs::temp_directory_path() / ("ruralsim-verify-" + std::to_string(getpid()));
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    if (run_cmd({"tar", "-xzf", target, "-C", tmp.string()}) != 0) {
      fs::remove_all(tmp);
      throw InputError(target + ": not a readable .tar.gz archive");
    }
    for (const auto& e : fs::directory_iterator(tmp))
      if (e.is_directory()) verify_dir(e.path(), target + ":" + e.path().filename().string(), t);
    fs::remove_all(tmp);
  }
  std::printf("verified %s: %d checks, %d failed\n", target.c_str(), t.checked, t.failed);
  return t.failed ? 1 : 0;
}

int cmd_archive(const std::vector<std::string>& args) {
  std::string dir, out;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kArchiveHelp, stdout);
      return 0;
    }
    if (args[i] == "--out" && i + 1 < args.size())
      out = args[++i];
    else if (args[i].rfind("--out=", 0) == 0)
      out = args[i].substr(6);
    else if (args[i].rfind("--", 0) == 0)
      throw UsageError("ruralsim archive: unknown option '" + args[i] +
                       "'; valid options: --out --help");
    else
      dir = args[i];
  }
  if (dir.empty() || out.empty())
    throw UsageError(std::string("ruralsim archive: expected DIR --out FILE.tar.gz\n\n") +
                     kArchiveHelp);
  if (!fs::is_directory(dir)) throw InputError(dir + ": no such directory");
  const fs::path d = fs::absolute(dir).lexically_normal();
  const std::string name =
      d.filename().empty() ? d.parent_path().filename().string() : d.filename().string();
  for (const char* f : {"LICENSE", "CITATION.cff"}) {
    const std::string src = source_file(f);
    if (!src.empty()) fs::copy_file(src, d / f, fs::copy_options::overwrite_existing);
  }
  {
    std::ofstream v(d / "VERSIONS");
    v << "ruralsim " << build::kVersion << "\ngit_commit " << build::kGitCommit << "\nbuild_type "
      << build::kBuildType << "\ncompiler " << build::kCompiler << "\nyaml_cpp "
      << build::kYamlCppVersion << "\n";
  }
  {
    std::ofstream r(d / "README.md");
    r << "# Archived ruralsim results: " << name << "\n\n"
      << "Made with ruralsim " << build::kVersion << " (commit " << build::kGitCommit
      << "; VERSIONS lists the build). Every result file (`runs/*.h5`) carries its resolved "
         "scenario, versions and a content hash of its data.\n\n"
      << "Contents: `sweep.yaml` (the sweep file), `inputs/` (the base scenario), `plan.yaml`, "
         "`manifest.tsv` (one line per run: arm, replicate, seed, values, hashes, output), "
         "`scenarios/` (the resolved scenario of every run), `runs/` (outputs), `sweep.h5` and "
         "`compare/` when collected and compared, `SHA256SUMS`, `LICENSE`, `CITATION.cff`.\n\n"
      << "## Verify\n\n```\nruralsim verify " << name << ".tar.gz      # or: ruralsim verify "
      << name
      << "/\nsha256sum -c SHA256SUMS                 # inside the unpacked directory\n```\n\n"
      << "`verify` recomputes every content hash from the stored data and checks the SHA-256 "
         "list.\n\n## Re-run\n\nOne run (compares the new content hash with the stored one):\n\n"
         "```\nruralsim reproduce runs/r0000.h5\n```\n\nThe whole sweep, in a fresh directory "
         "(the same code version gives the same content hashes):\n\n```\nmkdir rerun && cp -r "
         "plan.yaml manifest.tsv scenarios sweep.yaml inputs rerun/\nruralsim sweep run rerun "
         "--jobs 2 && ruralsim sweep collect rerun\n```\n";
  }
  {
    std::ostringstream s;
    for (const auto& rel : files_in(d))
      if (rel != "SHA256SUMS") s << file_sha256(d / rel) << "  " << rel.string() << "\n";
    std::ofstream(d / "SHA256SUMS") << s.str();
  }
  const fs::path outp = fs::absolute(out);
  if (outp.string().rfind(d.string() + "/", 0) == 0)
    throw InputError("--out " + out + ": must not be inside " + dir);
  const int rc = run_cmd({"tar", "--exclude=*.partial", "--exclude=*.lock", "-czf", outp.string(),
                          "-C", d.parent_path().string(), name});
  if (rc != 0) throw std::runtime_error("tar failed (exit " + std::to_string(rc) + ")");
  std::printf("wrote %s (%zu files; SHA256SUMS, VERSIONS and README.md added to %s)\n", out.c_str(),
              files_in(d).size(), dir.c_str());
  return 0;
}

}  // namespace ruralsim
