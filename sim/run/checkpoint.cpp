#include "run/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <tuple>
#include <type_traits>

#include "build_info.hpp"
#include "core/sha256.hpp"
#include "git_info.hpp"
#include "model/outputs.hpp"
#include "model/submodels.hpp"
#include "run/simulation.hpp"

namespace ruralsim {
namespace {

static_assert(std::endian::native == std::endian::little,
              "checkpoints are written in the host's byte order, assumed little-endian");

constexpr char kMagic[8] = {'R', 'S', 'I', 'M', 'C', 'K', 'P', 'T'};
constexpr std::size_t kHeadBytes = 8 + 4 + 4 + 8;
constexpr std::size_t kSumBytes = 32;

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <class T>
concept HasStateFields = requires {
  T::state_fields();
};

// ---- writing (to a byte string or into a hash) ------------------------------------------------

struct StringSink {
  std::string& out;
  void bytes(const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }
};
struct HashSink {
  Sha256& sha;
  void bytes(const void* p, std::size_t n) { sha.update(p, n); }
};

// One value: a struct with state_fields() (its state, recursively), a vector (length, then the
// elements), a string (length, bytes) or a trivially copyable scalar (its bytes).
template <class Sink, class T>
void put(Sink& s, const T& x) {
  if constexpr (HasStateFields<T>) {
    std::apply([&](auto... f) { (put(s, x.*f), ...); }, T::state_fields());
  } else if constexpr (std::is_same_v<T, std::string>) {
    const std::uint64_t n = x.size();
    s.bytes(&n, 8);
    s.bytes(x.data(), x.size());
  } else if constexpr (is_vector<T>::value) {
    using E = typename T::value_type;
    const std::uint64_t n = x.size();
    s.bytes(&n, 8);
    if constexpr (std::is_trivially_copyable_v<E> && !HasStateFields<E>) {
      if (n > 0) s.bytes(x.data(), x.size() * sizeof(E));
    } else {
      for (const E& e : x) put(s, e);
    }
  } else {
    static_assert(std::is_trivially_copyable_v<T>, "no checkpoint encoding for this type");
    s.bytes(&x, sizeof(T));
  }
}

// ---- reading, every length checked against the bytes left ------------------------------------

struct Damaged : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Reader {
  const char* p;
  std::size_t left;
  void bytes(void* dst, std::size_t n) {
    if (n > left) throw Damaged("it ends early");
    std::memcpy(dst, p, n);
    p += n;
    left -= n;
  }
  std::uint64_t count(std::size_t min_elem_bytes) {
    std::uint64_t n = 0;
    bytes(&n, 8);
    if (min_elem_bytes > 0 && n > left / min_elem_bytes) throw Damaged("a length is too large");
    return n;
  }
};

template <class T>
void get(Reader& r, T& x) {
  if constexpr (HasStateFields<T>) {
    std::apply([&](auto... f) { (get(r, x.*f), ...); }, T::state_fields());
  } else if constexpr (std::is_same_v<T, std::string>) {
    const auto n = r.count(1);
    x.resize(n);
    r.bytes(x.data(), n);
  } else if constexpr (is_vector<T>::value) {
    using E = typename T::value_type;
    if constexpr (std::is_trivially_copyable_v<E> && !HasStateFields<E>) {
      const auto n = r.count(sizeof(E));
      x.resize(n);
      if (n > 0) r.bytes(x.data(), n * sizeof(E));
    } else {
      const auto n = r.count(8);
      x.resize(n);
      for (E& e : x) get(r, e);
    }
  } else {
    static_assert(std::is_trivially_copyable_v<T>, "no checkpoint encoding for this type");
    r.bytes(&x, sizeof(T));
  }
}

// The run fields of CheckpointInfo, in file order (put and get share it).
template <class F>
void info_fields(F&& f, CheckpointInfo& i) {
  f(i.ruralsim_version);
  f(i.git_commit);
  f(i.scenario_hash);
  f(i.geography_hash);
  f(i.scenario_name);
  f(i.seed);
  f(i.replicate);
  f(i.tick);
  f(i.total_ticks);
  f(i.scenario_path);
  f(i.scenario_dir);
  f(i.scenario_input);
  f(i.scenario_resolved);
  f(i.overrides);
  f(i.out_path);
  f(i.checkpoint_every);
  f(i.start_time);
  f(i.wall);
  f(i.years);
}

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw CheckpointRefused("checkpoint " + path + ": " + why);
}

std::string read_whole(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) refuse(path, std::string("cannot open it: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    refuse(path, "not a regular file");
  }
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  data.resize(got);
  return data;
}

// Checks the sizes of a restored world against the freshly built one of the same scenario,
// and every index that the model uses to address another array.
void check_world(const World& got, const World& fresh, std::size_t interventions) {
  const std::size_t nv = fresh.geo.villages(), nc = fresh.geo.counties(),
                    ncat = fresh.categories.size();
  auto same_sizes = [](const auto& a, const auto& b, const char* what) {
    using T = std::decay_t<decltype(a)>;
    std::apply(
        [&](auto... f) {
          if ((((a.*f).size() != (b.*f).size()) || ...))
            throw Damaged(std::string("the ") + what +
                          " state has other sizes than the scenario's");
        },
        T::state_fields());
  };
  same_sizes(got.v, fresh.v, "village");
  same_sizes(got.c, fresh.c, "county");
  same_sizes(got.t, fresh.t, "town");
  if (got.vq.size() != fresh.vq.size() || got.cq.size() != fresh.cq.size() ||
      got.vq_year.size() != fresh.vq_year.size() ||
      got.new_stores.size() != fresh.new_stores.size() ||
      got.market_signal.size() != fresh.market_signal.size() ||
      got.intervention_targets.size() != interventions)
    throw Damaged("the output quantities have other sizes than the scenario's");
  for (const auto& t : got.intervention_targets)
    for (Id c : t)
      if (c >= nc) throw Damaged("an intervention target is not a county");
  // Stores: offsets over the villages, each store in its village, a known category; the live
  // count of each village as the rebuild expects it.
  const MerchantStore& m = got.m;
  if (m.offset.size() != nv || m.end.size() != nv || m.limit.size() != nv)
    throw Damaged("the store offsets are wrong");
  const std::size_t ns = m.size();
  {
    // each village's slots inside the arrays, and no slot owned by two villages
    std::vector<std::pair<std::uint64_t, std::uint64_t>> owned;
    for (std::size_t v = 0; v < nv; ++v) {
      if (m.end[v] < m.offset[v] || m.limit[v] < m.end[v] || m.limit[v] > ns)
        throw Damaged("the store offsets are wrong");
      if (m.limit[v] > m.offset[v]) owned.emplace_back(m.offset[v], m.limit[v]);
    }
    std::sort(owned.begin(), owned.end());
    for (std::size_t k = 1; k < owned.size(); ++k)
      if (owned[k].first < owned[k - 1].second) throw Damaged("the store offsets overlap");
  }
  std::apply(
      [&](auto... f) {
        if ((((m.*f).size() != ns) || ...)) throw Damaged("the store arrays have other sizes");
      },
      MerchantStore::per_store_fields());
  for (std::size_t v = 0; v < nv; ++v) {
    std::int32_t alive = 0;
    for (auto i = m.offset[v]; i < m.end[v]; ++i) {
      if (m.village[i] != v || m.category[i] >= ncat) throw Damaged("a store is out of place");
      alive += m.alive[i] != 0;
    }
    for (auto i = m.end[v]; i < m.limit[v]; ++i)
      if (m.alive[i] != 0) throw Damaged("a spare store slot is in use");
    if (alive != got.v.stores[v]) throw Damaged("the store counts do not match the stores");
  }
  const StreamerStore& ls = got.ls;
  if (ls.offset.size() != nc + 1 || ls.offset[0] != 0)
    throw Damaged("the livestreamer offsets are wrong");
  for (std::size_t c = 0; c < nc; ++c)
    if (ls.offset[c + 1] < ls.offset[c]) throw Damaged("the livestreamer offsets are wrong");
  const std::size_t nl = ls.offset[nc];
  std::apply(
      [&](auto... f) {
        if ((((ls.*f).size() != nl) || ...))
          throw Damaged("the livestreamer arrays have other sizes");
      },
      StreamerStore::per_streamer_fields());
  for (std::size_t c = 0; c < nc; ++c)
    for (auto i = ls.offset[c]; i < ls.offset[c + 1]; ++i)
      if (ls.county[i] != c || ls.village[i] < fresh.geo.county_village_begin[c] ||
          ls.village[i] >= fresh.geo.county_village_end[c])
        throw Damaged("a livestreamer is out of place");
}

// Moves the state fields of `src` into `dst`, recursively, leaving dst's other members (the
// scratch: intervention modifiers, per-tick buffers) in place.
template <class T>
void move_state(T& dst, T& src) {
  if constexpr (HasStateFields<T>)
    std::apply([&](auto... f) { (move_state(dst.*f, src.*f), ...); }, T::state_fields());
  else
    dst = std::move(src);
}

}  // namespace

std::string scenario_hash(const Scenario& sc) {
  return sha256_hex(resolved_yaml(sc));
}

std::string geography_hash(const Geography& g) {
  Sha256 sha;
  HashSink sink{sha};
  std::apply([&](auto... f) { (put(sink, g.*f), ...); }, Geography::fields());
  return sha.hex_digest();
}

std::uint64_t write_checkpoint(const std::string& path, const Scenario& sc, const Simulation& sim,
                               Recorder* rec, CheckpointInfo info) {
  const World& w = sim.world();
  info.ruralsim_version = build::kVersion;
  info.git_commit = build::kGitCommit;
  info.scenario_hash = scenario_hash(sc);
  info.geography_hash = geography_hash(w.geo);
  info.scenario_name = sc.name;
  info.seed = sc.params.simulation.seed;
  info.replicate = sc.params.simulation.replicate;
  info.tick = sim.clock().tick;
  info.total_ticks = sim.clock().total_ticks;
  std::vector<unsigned char> image;
  RecorderPosition pos;
  if (rec != nullptr) pos = rec->checkpoint(image);

  std::string data;
  data.append(kMagic, sizeof kMagic);
  const std::uint32_t format = kCheckpointFormat, flags = 0;
  data.append(reinterpret_cast<const char*>(&format), 4);
  data.append(reinterpret_cast<const char*>(&flags), 4);
  data.append(8, '\0');  // body length, filled below
  StringSink sink{data};
  info_fields([&](auto& x) { put(sink, x); }, info);
  put(sink, w);
  put(sink, pos.records);
  put(sink, pos.snapshots);
  put(sink, pos.pending);
  put(sink, image);
  const std::uint64_t body = data.size() - kHeadBytes;
  std::memcpy(data.data() + 16, &body, 8);
  Sha256 sha;
  sha.update(data.data(), data.size());
  const auto sum = sha.digest();
  data.append(reinterpret_cast<const char*>(sum.data()), sum.size());

  // Atomic: a complete temporary file, flushed to disk, renamed over the previous checkpoint.
  const std::string tmp = path + ".tmp";
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
  }
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error("cannot write the checkpoint '" + tmp + "': " + std::strerror(errno));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write the checkpoint '" + tmp + "': " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write the checkpoint '" + tmp + "': " + std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot rename the checkpoint '" + tmp + "' to '" + path +
                             "': " + std::strerror(err));
  }
  const std::string dir = parent.empty() ? "." : parent.string();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return data.size();
}

std::shared_ptr<const Checkpoint> Checkpoint::load(const std::string& path) {
  auto ck = std::make_shared<Checkpoint>();
  ck->path_ = path;
  std::string& data = ck->data_;
  data = read_whole(path);
  if (data.size() < 8 || std::memcmp(data.data(), kMagic, 8) != 0)
    refuse(path, "not a ruralsim checkpoint (it does not start with RSIMCKPT)");
  if (data.size() < kHeadBytes + kSumBytes)
    refuse(path, "truncated (" + std::to_string(data.size()) + " bytes)");
  std::uint32_t format = 0;
  std::uint64_t body = 0;
  std::memcpy(&format, data.data() + 8, 4);
  std::memcpy(&body, data.data() + 16, 8);
  if (format != kCheckpointFormat)
    refuse(path, "checkpoint format " + std::to_string(format) + "; this ruralsim " +
                     build::kVersion + " reads format " + std::to_string(kCheckpointFormat));
  if (body != data.size() - kHeadBytes - kSumBytes)
    refuse(path, "truncated or damaged: " + std::to_string(data.size()) + " bytes, expected " +
                     (body > data.size() ? std::string("more")
                                         : std::to_string(body + kHeadBytes + kSumBytes)));
  Sha256 sha;
  sha.update(data.data(), data.size() - kSumBytes);
  const auto sum = sha.digest();
  if (std::memcmp(sum.data(), data.data() + data.size() - kSumBytes, kSumBytes) != 0)
    refuse(path, "damaged: its checksum does not match its contents");
  Reader r{data.data() + kHeadBytes, static_cast<std::size_t>(body)};
  try {
    info_fields([&](auto& x) { get(r, x); }, ck->info_);
    ck->world_at_ = static_cast<std::size_t>(r.p - data.data());
    // Skip the world (parsed in restore(), against the scenario's geography).
    World skip;
    get(r, skip);
    ck->world_end_ = static_cast<std::size_t>(r.p - data.data());
    get(r, ck->pos_.records);
    get(r, ck->pos_.snapshots);
    get(r, ck->pos_.pending);
    get(r, ck->image_);
    if (r.left != 0) throw Damaged("it has bytes after its end");
    if (!ck->image_.empty() && !output_image_opens(ck->image_))
      throw Damaged("its image of the output written so far is not a readable HDF5 file");
  } catch (const Damaged& e) {
    refuse(path, std::string("damaged: ") + e.what());
  }
  const auto& i = ck->info_;
  if (i.ruralsim_version != build::kVersion || i.git_commit != build::kGitCommit)
    refuse(path, "written by ruralsim " + i.ruralsim_version + " (commit " + i.git_commit +
                     "); this is ruralsim " + build::kVersion + " (commit " + build::kGitCommit +
                     "). A checkpoint is resumed only by the build that wrote it; rerun the "
                     "scenario from the start, or resume with that build");
  if (i.tick <= 0 || i.tick >= i.total_ticks)
    refuse(path,
           "damaged: tick " + std::to_string(i.tick) + " of " + std::to_string(i.total_ticks));
  return ck;
}

Scenario Checkpoint::scenario(const std::vector<std::string>& extra) const {
  Scenario sc = parse_scenario(info_.scenario_resolved, path_ + ": resolved scenario",
                               info_.scenario_dir, extra);
  sc.path = info_.scenario_path;
  sc.text = info_.scenario_input;
  sc.overrides = info_.overrides;
  sc.overrides.insert(sc.overrides.end(), extra.begin(), extra.end());
  return sc;
}

void Checkpoint::check_compatible(const Scenario& sc) const {
  const std::string h = scenario_hash(sc);
  if (h != info_.scenario_hash)
    refuse(path_,
           "written for another scenario: '" + info_.scenario_name + "' from " +
               info_.scenario_path + " (seed " + std::to_string(info_.seed) + ", replicate " +
               std::to_string(info_.replicate) + ", resolved scenario sha256 " +
               info_.scenario_hash.substr(0, 12) + "), not '" + sc.name + "' from " + sc.path +
               " (seed " + std::to_string(sc.params.simulation.seed) + ", replicate " +
               std::to_string(sc.params.simulation.replicate) + ", sha256 " + h.substr(0, 12) +
               "); resume with the same scenario, overrides and seed, or without a "
               "scenario (ruralsim run --resume CHECKPOINT)");
}

void Checkpoint::restore(Simulation& sim, Recorder* rec) const {
  World& w = sim.world();
  if (geography_hash(w.geo) != info_.geography_hash)
    refuse(path_,
           "the geography built from the scenario differs from the checkpoint's (was the village "
           "table or the geography cache changed?)");
  if (sim.clock().total_ticks != info_.total_ticks)
    refuse(path_, "written for a run of another length");
  World got;
  Reader r{data_.data() + world_at_, world_end_ - world_at_};
  try {
    get(r, got);
    check_world(got, w, sim.scenario().interventions.size());
    if (pos_.records > static_cast<std::uint64_t>(info_.total_ticks) ||
        pos_.snapshots > static_cast<std::uint64_t>(info_.total_ticks))
      throw Damaged("the recorder position is out of range");
  } catch (const Damaged& e) {
    refuse(path_, std::string("damaged: ") + e.what());
  }
  move_state(w, got);
  prepare_caches(w, sim.scenario().params);
  // per-store scratch at the size of the restored stores
  w.m.resize(w.m.size());
  w.ls.session_sales.assign(w.ls.size(), 0.0);
  if (rec != nullptr) rec->restore(image_, pos_);
  sim.resume_at(info_.tick);
}

}  // namespace ruralsim
