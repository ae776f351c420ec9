#include "common/strings.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace propgrade {

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (b < e && space(s[b])) ++b;
  while (e > b && space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string FormatDouble(double v) {
  if (v == 0) return "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::optional<double> ParseFiniteDouble(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc() || res.ptr != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc() || res.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

namespace {
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve(4 * ((bytes.size() + 2) / 3));
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    size_t left = bytes.size() - i;
    if (left > 1) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (left > 2) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += left > 1 ? kBase64[(n >> 6) & 63] : '=';
    out += left > 2 ? kBase64[n & 63] : '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = 0;
    uint32_t n = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        ++pad;
        n <<= 6;
        continue;
      }
      int v = Base64Value(c);
      if (v < 0 || pad > 0) return std::nullopt;  // bad character, or data after padding
      n = (n << 6) | static_cast<uint32_t>(v);
    }
    out += static_cast<char>((n >> 16) & 255);
    if (pad < 2) out += static_cast<char>((n >> 8) & 255);
    if (pad < 1) out += static_cast<char>(n & 255);
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

namespace {

bool IsSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '-' || c == '.';
}

// Where a URL's authority ends (RFC 3986 §3.2, and what cannot be part of a URL in a message).
bool EndsAuthority(char c) {
  return c == '/' || c == '?' || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\' ||
         static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
}

// Where a URL's path or query ends in a message (a query also ends at its fragment).
bool EndsQuery(char c) {
  return c == '#' || c == '"' || c == '<' || c == '>' || c == '\\' ||
         static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string RedactUrlCredentials(std::string_view text) {
  constexpr std::string_view kSep = "://";
  constexpr std::string_view kMask = "***";
  std::vector<std::pair<size_t, size_t>> masked;  // [from, to) of text, each a secret
  for (size_t sep = text.find(kSep); sep != std::string_view::npos;
       sep = text.find(kSep, sep + kSep.size())) {
    // A scheme: a letter, then letters, digits, '+', '-' or '.', right before "://".
    size_t scheme = sep;
    while (scheme > 0 && IsSchemeChar(text[scheme - 1])) --scheme;
    while (scheme < sep && !((text[scheme] >= 'a' && text[scheme] <= 'z') ||
                             (text[scheme] >= 'A' && text[scheme] <= 'Z'))) {
      ++scheme;
    }
    if (scheme == sep) continue;
    const size_t start = sep + kSep.size();
    size_t end = start;
    while (end < text.size() && !EndsAuthority(text[end])) ++end;
    std::string_view authority = text.substr(start, end - start);
    size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      size_t colon = authority.substr(0, at).find(':');
      if (colon != std::string_view::npos && colon + 1 != at) {  // a password
        masked.emplace_back(start + colon + 1, start + at);
      }
    }
    // The query: the values of password= and sslpassword= (libpq takes either there).
    size_t q = end;
    while (q < text.size() && text[q] != '?' && !EndsQuery(text[q])) ++q;
    if (q >= text.size() || text[q] != '?') continue;
    for (size_t param = q + 1; param < text.size() && !EndsQuery(text[param]);) {
      size_t next = param;
      while (next < text.size() && text[next] != '&' && !EndsQuery(text[next])) ++next;
      std::string_view p = text.substr(param, next - param);
      const size_t eq = p.find('=');
      if (eq != std::string_view::npos && eq + 1 < p.size() &&
          (EqualsIgnoreCase(p.substr(0, eq), "password") ||
           EqualsIgnoreCase(p.substr(0, eq), "sslpassword"))) {
        masked.emplace_back(param + eq + 1, next);
      }
      param = next < text.size() && text[next] == '&' ? next + 1 : next;
    }
  }
  std::sort(masked.begin(), masked.end());
  std::string out;
  size_t copied = 0;  // text[0, copied) is in `out`
  for (const auto& [from, to] : masked) {
    if (to <= copied) continue;  // inside a range already masked
    if (from >= copied) {
      out.append(text.substr(copied, from - copied));
      out.append(kMask);
    }
    copied = to;
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace propgrade
