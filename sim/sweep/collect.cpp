// Collecting a sweep into one sweep.h5: the manifest as a table and, for every national,
// province and county variable, one dataset over (run, time[, entity]).
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "build_info.hpp"
#include "core/error.hpp"
#include "git_info.hpp"
#include "model/outputs.hpp"
#include "run/verify.hpp"
#include "sweep/sweep.hpp"

namespace fs = std::filesystem;

namespace ruralsim {
namespace {

struct H {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H() {
    if (id >= 0) close(id);
  }
};

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("sweep collect: " + what + " failed");
}

struct Array {
  std::vector<double> data;
  std::vector<hsize_t> dims;
};

// Reads a float64 dataset; empty dims when it is missing.
Array read_f64(hid_t f, const std::string& path) {
  Array a;
  if (H5Lexists(f, path.c_str(), H5P_DEFAULT) <= 0) return a;
  H ds{H5Dopen2(f, path.c_str(), H5P_DEFAULT), H5Dclose};
  H sp{H5Dget_space(ds.id), H5Sclose};
  const int rank = H5Sget_simple_extent_ndims(sp.id);
  a.dims.resize(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(sp.id, a.dims.data(), nullptr);
  hsize_t n = 1;
  for (auto d : a.dims) n *= d;
  a.data.resize(n);
  if (n)
    check(H5Dread(ds.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.data.data()) >= 0,
          "reading " + path);
  return a;
}

void write_f64(hid_t g, const std::string& name, const std::vector<double>& v,
               const std::vector<hsize_t>& dims, const std::string& units,
               const std::string& description) {
  H sp{H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose};
  H pl{H5Pcreate(H5P_DATASET_CREATE), H5Pclose};
  bool any = true;
  for (auto d : dims) any = any && d > 0;
  if (any) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = 1;
    H5Pset_chunk(pl.id, static_cast<int>(chunk.size()), chunk.data());
    H5Pset_deflate(pl.id, 4);
  }
  H ds{H5Dcreate2(g, name.c_str(), H5T_IEEE_F64LE, sp.id, H5P_DEFAULT, pl.id, H5P_DEFAULT),
       H5Dclose};
  check(ds.id >= 0, "creating " + name);
  if (!v.empty())
    check(H5Dwrite(ds.id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0,
          "writing " + name);
  auto attr = [&](const char* key, const std::string& text) {
    H t{H5Tcopy(H5T_C_S1), H5Tclose};
    H5Tset_size(t.id, H5T_VARIABLE);
    H5Tset_cset(t.id, H5T_CSET_UTF8);
    H s{H5Screate(H5S_SCALAR), H5Sclose};
    H a{H5Acreate2(ds.id, key, t.id, s.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
    const char* p = text.c_str();
    H5Awrite(a.id, t.id, &p);
  };
  attr("units", units);
  attr("description", description);
}

void write_i64(hid_t g, const std::string& name, const std::vector<long long>& v) {
  const hsize_t n = v.size();
  H sp{H5Screate_simple(1, &n, nullptr), H5Sclose};
  H ds{H5Dcreate2(g, name.c_str(), H5T_STD_I64LE, sp.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
       H5Dclose};
  check(ds.id >= 0, "creating " + name);
  if (n) H5Dwrite(ds.id, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
}

void write_str(hid_t g, const std::string& name, const std::vector<std::string>& v) {
  const hsize_t n = v.size();
  H t{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(t.id, H5T_VARIABLE);
  H5Tset_cset(t.id, H5T_CSET_UTF8);
  H sp{H5Screate_simple(1, &n, nullptr), H5Sclose};
  H ds{H5Dcreate2(g, name.c_str(), t.id, sp.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose};
  check(ds.id >= 0, "creating " + name);
  std::vector<const char*> p;
  for (const auto& s : v) p.push_back(s.c_str());
  if (n) H5Dwrite(ds.id, t.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data());
}

void root_attr(hid_t f, const char* key, const std::string& text) {
  H t{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(t.id, H5T_VARIABLE);
  H5Tset_cset(t.id, H5T_CSET_UTF8);
  H s{H5Screate(H5S_SCALAR), H5Sclose};
  H a{H5Acreate2(f, key, t.id, s.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  const char* p = text.c_str();
  H5Awrite(a.id, t.id, &p);
}

// The run's resolved scenario without seeds and interventions, one "section.key=value" per line
// (categories and the demand table as whole blocks): what `compare` checks before pairing.
std::string parameter_lines(const SweepPlan& plan, const PlannedRun& r) {
  std::ifstream in(fs::path(plan.dir) / r.scenario_file);
  std::string line, section, out, block;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] != ' ') {
      if (!block.empty()) out += section + "=" + block + "\n";
      block.clear();
      section = line.substr(0, line.find(':'));
      if (section == "categories" || section == "demand_table") block = " ";
      continue;
    }
    if (section == "interventions" || section == "name" || section == "description") continue;
    if (section == "categories" || section == "demand_table") {
      block += line.substr(line.find_first_not_of(' ')) + " ";
      continue;
    }
    const std::string kv = line.substr(line.find_first_not_of(' '));
    const std::string key = section + "." + kv.substr(0, kv.find(':'));
    if (key == "simulation.seed" || key == "simulation.replicate") continue;
    const auto colon = kv.find(':');
    out += key + "=" + (colon + 2 <= kv.size() ? kv.substr(colon + 2) : "") + "\n";
  }
  if (!block.empty()) out += section + "=" + block + "\n";
  return out;
}

}  // namespace

std::string collect_sweep(const SweepPlan& plan, bool partial) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  std::vector<RunStatus> st;
  std::vector<std::string> unfinished;
  for (const auto& r : plan.runs) {
    st.push_back(run_status(plan, r));
    if (st.back().state != RunState::Finished) unfinished.push_back(r.id);
  }
  if (!unfinished.empty() && !partial) {
    std::string list;
    for (std::size_t i = 0; i < unfinished.size() && i < 10; ++i)
      list += (i ? ", " : "") + unfinished[i];
    if (unfinished.size() > 10) list += ", ...";
    throw InputError(plan.dir + ": " + std::to_string(unfinished.size()) + " of " +
                     std::to_string(plan.runs.size()) + " runs are not finished (" + list +
                     "); run `ruralsim sweep run " + plan.dir +
                     "` first, or collect what is there with --partial");
  }
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < plan.runs.size(); ++i)
    if (st[i].state == RunState::Finished) keep.push_back(i);
  if (keep.empty()) throw InputError(plan.dir + ": no finished run to collect");

  // Shapes: the longest time axis; entity counts must agree to stack province/county data.
  const auto& table = output_table();
  std::vector<hid_t> files;
  struct Closer {
    std::vector<hid_t>& f;
    ~Closer() {
      for (hid_t id : f) H5Fclose(id);
    }
  } closer{files};
  for (std::size_t i : keep) {
    const std::string p = (fs::path(plan.dir) / plan.runs[i].output).string();
    const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) throw InputError(p + ": cannot open");
    files.push_back(f);
  }
  Array longest, longest_year;
  for (std::size_t k = 0; k < files.size(); ++k) {
    Array t = read_f64(files[k], "/national/time");
    if (t.data.size() > longest.data.size()) {
      longest = t;
      longest_year = read_f64(files[k], "/national/year");
    }
  }
  const hsize_t T = longest.data.size();
  const hsize_t R = files.size();
  const std::string out = (fs::path(plan.dir) / "sweep.h5").string();
  const std::string tmp = out + ".partial";
  {
    H f{H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
    check(f.id >= 0, "creating " + tmp);
    {
      H g{H5Gcreate2(f.id, "manifest", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose};
      std::vector<std::string> id, arm, values, sh, gh, gdh, ch, output;
      std::vector<long long> rep, seed;
      std::vector<double> wall;
      std::vector<std::string> params;
      for (std::size_t k = 0; k < keep.size(); ++k) {
        const PlannedRun& r = plan.runs[keep[k]];
        id.push_back(r.id);
        arm.push_back(r.arm);
        values.push_back(r.values);
        sh.push_back(r.scenario_hash);
        gh.push_back(r.geography_hash);
        gdh.push_back(geography_hash((fs::path(plan.dir) / r.output).string()));
        ch.push_back(st[keep[k]].content_hash);
        output.push_back(r.output);
        rep.push_back(r.replicate);
        seed.push_back(r.seed);
        wall.push_back(st[keep[k]].wall);
        params.push_back(parameter_lines(plan, r));
      }
      write_str(g.id, "run_id", id);
      write_str(g.id, "arm", arm);
      write_i64(g.id, "replicate", rep);
      write_i64(g.id, "seed", seed);
      write_str(g.id, "values", values);
      write_str(g.id, "scenario_hash", sh);
      write_str(g.id, "geography_hash", gh);
      write_str(g.id, "geography_data_hash", gdh);
      write_str(g.id, "content_hash", ch);
      write_str(g.id, "output", output);
      write_f64(g.id, "wall_seconds", wall, {R}, "s", "Run time of the run");
      write_str(g.id, "parameters", params);
    }
    for (const char* level : {"national", "province", "county"}) {
      H g{H5Gcreate2(f.id, level, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose};
      if (std::string(level) == "national") {
        write_f64(g.id, "time", longest.data, {T}, "year",
                  "Decimal calendar year at the end of the recorded tick (longest run)");
        write_f64(g.id, "year", longest_year.data, {T}, "year",
                  "Calendar year of the recorded tick (longest run)");
      }
      for (const auto& v : table) {
        const std::string path = std::string("/") + level + "/" + v.name;
        hsize_t E = 0;
        bool same = true;
        std::vector<Array> arrays;
        for (std::size_t k = 0; k < files.size(); ++k) {
          arrays.push_back(read_f64(files[k], path));
          const hsize_t e = arrays.back().dims.size() == 2 ? arrays.back().dims[1] : 1;
          if (k == 0) E = e;
          same = same && e == E;
        }
        if (!same) {
          if (std::string(level) == "national")
            throw InputError("sweep collect: " + path + " differs in shape");
          break;  // runs on different geographies: no province/county stack
        }
        const bool entity = std::string(level) != "national";
        std::vector<double> data(R * T * E, std::numeric_limits<double>::quiet_NaN());
        for (std::size_t k = 0; k < files.size(); ++k)
          std::copy(arrays[k].data.begin(), arrays[k].data.end(),
                    data.begin() + static_cast<std::ptrdiff_t>(k * T * E));
        std::vector<hsize_t> dims = {R, T};
        if (entity) dims.push_back(E);
        write_f64(g.id, v.name, data, dims, v.unit, v.description);
      }
    }
    root_attr(f.id, "sweep_name", plan.name);
    root_attr(f.id, "baseline_arm", plan.baseline);
    root_attr(f.id, "runs_planned", std::to_string(plan.runs.size()));
    root_attr(f.id, "runs_collected", std::to_string(R));
    root_attr(f.id, "partial", unfinished.empty() ? "false" : "true");
    root_attr(f.id, "ruralsim_version", build::kVersion);
    root_attr(f.id, "git_commit", build::kGitCommit);
    root_attr(f.id, "format", "ruralsim-sweep-1");
  }
  fs::rename(tmp, out);
  return out;
}

}  // namespace ruralsim
