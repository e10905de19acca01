#include "io/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace ruralsim {
namespace {

std::string mib(std::uint64_t bytes) {
  const double m = static_cast<double>(bytes) / (1 << 20);
  char buf[32];
  std::snprintf(buf, sizeof buf, m < 10 ? "%.1f MiB" : "%.0f MiB", m);
  return buf;
}

// Length of the valid UTF-8 sequence at s[i], 0 if invalid.
std::size_t utf8_len(const std::string& s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

}  // namespace

std::uint64_t require_regular_file(const std::string& path, const std::string& what) {
  if (path.empty()) throw InputError("'': an empty path is not " + what);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ENOENT) throw InputError(path + ": cannot open " + what + " (no such file)");
    throw InputError(path + ": cannot open " + what + " (" + std::strerror(e) + ")");
  }
  const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                     : S_ISREG(st.st_mode)  ? nullptr
                                            : "not a regular file";
  if (kind) throw InputError(path + ": is " + std::string(kind) + ", not " + what);
  return static_cast<std::uint64_t>(st.st_size);
}

std::string read_input_file(const std::string& path, const std::string& what,
                            std::uint64_t max_bytes) {
  const std::uint64_t size = require_regular_file(path, what);
  if (size > max_bytes)
    throw InputError(path + ": " + what + " is " + mib(size) + "; the limit is " + mib(max_bytes));
  // O_NONBLOCK: should the file have been replaced by a FIFO since stat(), open() does not wait.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw InputError(path + ": cannot open " + what + " (" + std::strerror(errno) + ")");
  struct stat fst {};
  if (::fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
    ::close(fd);
    throw InputError(path + ": is not a regular file, not " + what);
  }
  std::string text;
  text.reserve(static_cast<std::size_t>(fst.st_size));
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      throw InputError(path + ": error reading " + what + " (" + std::strerror(e) + ")");
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) {
      ::close(fd);
      throw InputError(path + ": " + what + " grew beyond the limit of " + mib(max_bytes) +
                       " while being read");
    }
  }
  ::close(fd);
  return text;
}

void require_utf8(const std::string& text, const std::string& label, const std::string& what) {
  auto starts = [&](const char* p, std::size_t n) { return text.compare(0, n, p, n) == 0; };
  if (starts("\x00\x00\xFE\xFF", 4) || starts("\xFF\xFE\x00\x00", 4))
    throw InputError(label + ": " + what + " is UTF-32 text; save it as UTF-8");
  if (starts("\xFE\xFF", 2) || starts("\xFF\xFE", 2))
    throw InputError(label + ": " + what + " is UTF-16 text; save it as UTF-8");
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      line_start = ++i;
      continue;
    }
    const std::size_t n = utf8_len(text, i);
    const int column = static_cast<int>(i - line_start) + 1;
    if (c == 0)
      throw InputError(located(label, line, column,
                               what + " holds a NUL byte (binary data or UTF-16 text without a "
                                      "byte-order mark); save it as UTF-8 text"));
    if (n == 0) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      throw InputError(
          located(label, line, column,
                  what + " is not valid UTF-8 (byte " + hex + "); save it as UTF-8 text"));
    }
    i += n;
  }
}

std::string escape_bytes(const std::string& s, bool keep_newlines) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_len(s, i);
    if (keep_newlines && (c == '\n' || c == '\t')) {
      out += static_cast<char>(c);
      ++i;
    } else if (n == 0 || c < 0x20 || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace ruralsim
