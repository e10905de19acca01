#include "run/verify.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "core/sha256.hpp"

namespace ruralsim {
namespace {

constexpr std::size_t kBlockBytes = 8u << 20;

struct H5 {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  H5(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~H5() {
    if (id >= 0 && close) close(id);
  }
  H5(const H5&) = delete;
  H5& operator=(const H5&) = delete;
};

herr_t collect(hid_t, const char* name, const H5O_info_t* info, void* data) {
  if (info->type == H5O_TYPE_DATASET)
    static_cast<std::vector<std::string>*>(data)->push_back(std::string("/") + name);
  return 0;
}

// Little-endian memory type for a stored numeric type; -1 if not supported.
hid_t memory_type(hid_t t) {
  const H5T_class_t cls = H5Tget_class(t);
  const std::size_t size = H5Tget_size(t);
  if (cls == H5T_FLOAT) return size == 8 ? H5T_IEEE_F64LE : size == 4 ? H5T_IEEE_F32LE : -1;
  if (cls == H5T_INTEGER) {
    const bool sign = H5Tget_sign(t) == H5T_SGN_2;
    switch (size) {
      case 1:
        return sign ? H5T_STD_I8LE : H5T_STD_U8LE;
      case 2:
        return sign ? H5T_STD_I16LE : H5T_STD_U16LE;
      case 4:
        return sign ? H5T_STD_I32LE : H5T_STD_U32LE;
      case 8:
        return sign ? H5T_STD_I64LE : H5T_STD_U64LE;
      default:
        return -1;
    }
  }
  return -1;
}

}  // namespace

std::string hash_datasets(const std::string& path, const std::string& prefix) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (!std::filesystem::is_regular_file(path)) throw InputError(path + ": no such file");
  H5 f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (f.id < 0) throw InputError(path + ": not a readable HDF5 file (incomplete or damaged?)");
  std::vector<std::string> paths;
  if (H5Ovisit(f.id, H5_INDEX_NAME, H5_ITER_NATIVE, collect, &paths) < 0)
    throw InputError(path + ": cannot list the datasets (damaged file?)");
  paths.erase(std::remove_if(paths.begin(), paths.end(),
                             [&](const std::string& p) {
                               return p.rfind("/provenance/", 0) == 0 || p.rfind(prefix, 0) != 0;
                             }),
              paths.end());
  std::sort(paths.begin(), paths.end());
  Sha256 sha;
  const char nul = '\0';
  std::vector<unsigned char> block;
  std::vector<char*> strings;
  H5 str_type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(str_type.id, H5T_VARIABLE);
  H5Tset_cset(str_type.id, H5T_CSET_UTF8);
  for (const std::string& p : paths) {
    auto fail = [&](const char* what) {
      throw InputError(path + ": cannot read dataset " + p + " (" + what + ")");
    };
    sha.update(p);
    sha.update(&nul, 1);
    H5 ds(H5Dopen2(f.id, p.c_str(), H5P_DEFAULT), H5Dclose);
    if (ds.id < 0) fail("open");
    H5 fspace(H5Dget_space(ds.id), H5Sclose);
    H5 ftype(H5Dget_type(ds.id), H5Tclose);
    const int rank = H5Sget_simple_extent_ndims(fspace.id);
    if (rank < 0) fail("shape");
    hsize_t dims[H5S_MAX_RANK] = {};
    H5Sget_simple_extent_dims(fspace.id, dims, nullptr);
    hsize_t rows = 1, row_elems = 1;
    if (rank > 0) rows = dims[0];
    for (int d = 1; d < rank; ++d) row_elems *= dims[d];
    if (rows == 0 || row_elems == 0) continue;
    const bool is_str = H5Tget_class(ftype.id) == H5T_STRING;
    if (is_str && H5Tis_variable_str(ftype.id) <= 0) fail("fixed-length strings");
    const hid_t mt = is_str ? str_type.id : memory_type(ftype.id);
    if (mt < 0) fail("unsupported type");
    const std::size_t esize = is_str ? sizeof(char*) : H5Tget_size(mt);
    const hsize_t per_block = std::max<hsize_t>(1, kBlockBytes / (row_elems * esize));
    for (hsize_t r0 = 0; r0 < rows; r0 += per_block) {
      const hsize_t nb = std::min(per_block, rows - r0);
      const hsize_t nelem = nb * row_elems;
      hsize_t start[H5S_MAX_RANK] = {}, count[H5S_MAX_RANK] = {};
      start[0] = r0;
      count[0] = nb;
      for (int d = 1; d < rank; ++d) count[d] = dims[d];
      if (rank > 0 &&
          H5Sselect_hyperslab(fspace.id, H5S_SELECT_SET, start, nullptr, count, nullptr) < 0)
        fail("select");
      // The memory space has the shape of the selection (HDF5 then copies whole rows).
      H5 mspace(
          rank > 0 ? H5Screate_simple(rank, count, nullptr) : H5Screate_simple(1, &nelem, nullptr),
          H5Sclose);
      if (is_str) {
        strings.assign(nelem, nullptr);
        if (H5Dread(ds.id, mt, mspace.id, fspace.id, H5P_DEFAULT, strings.data()) < 0) fail("read");
        for (const char* sp : strings) {
          if (sp != nullptr) sha.update(sp, std::strlen(sp));
          sha.update(&nul, 1);
        }
        H5Dvlen_reclaim(mt, mspace.id, H5P_DEFAULT, strings.data());
      } else {
        block.resize(nelem * esize);
        if (H5Dread(ds.id, mt, mspace.id, fspace.id, H5P_DEFAULT, block.data()) < 0) fail("read");
        sha.update(block.data(), block.size());
      }
    }
  }
  return sha.hex_digest();
}

std::map<std::string, std::string> result_attrs(const std::string& path) {
  std::map<std::string, std::string> out;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (!std::filesystem::is_regular_file(path)) return out;
  H5 f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (f.id < 0) return out;
  H5 root(H5Gopen2(f.id, "/", H5P_DEFAULT), H5Gclose);
  H5O_info_t info{};
  if (H5Oget_info(root.id, &info) < 0) return out;
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    H5 at(H5Aopen_by_idx(root.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT),
          H5Aclose);
    if (at.id < 0) continue;
    char name[256] = {0};
    H5Aget_name(at.id, sizeof name - 1, name);
    H5 t(H5Aget_type(at.id), H5Tclose);
    if (H5Tget_class(t.id) != H5T_STRING) continue;
    std::string value;
    if (H5Tis_variable_str(t.id) > 0) {
      char* s = nullptr;
      if (H5Aread(at.id, t.id, &s) < 0) continue;
      value = s ? s : "";
      if (s) H5free_memory(s);
    } else {
      std::string buf(H5Tget_size(t.id), '\0');
      if (H5Aread(at.id, t.id, buf.data()) < 0) continue;
      value = buf.c_str();
    }
    out[name] = value;
  }
  return out;
}

FileCheck verify_result_file(const std::string& path) {
  FileCheck c;
  if (!std::filesystem::is_regular_file(path)) {
    c.message = path + ": no such file";
    return c;
  }
  const auto attrs = result_attrs(path);
  auto it = attrs.find("content_hash");
  if (it == attrs.end()) {
    c.message = path + ": no content_hash attribute (incomplete, or not a ruralsim result file)";
    return c;
  }
  c.stored = it->second;
  try {
    c.computed = hash_datasets(path);
  } catch (const std::exception& e) {
    c.message = e.what();
    return c;
  }
  c.ok = c.computed == c.stored;
  if (!c.ok)
    c.message = path + ": the data do not match the stored content hash (stored " + c.stored +
                ", recomputed " + c.computed + ")";
  return c;
}

}  // namespace ruralsim
