// Small string helpers shared by every module. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace propgrade {

std::string_view Trim(std::string_view s);  // ASCII whitespace
std::string ToUpper(std::string_view s);    // ASCII only
std::string ToLower(std::string_view s);    // ASCII only
std::vector<std::string_view> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);

// The shortest decimal text that reads back as exactly `v` ("0.1", "25", "1e+21"); "-0" is
// written "0". Exports and JSON use it.
std::string FormatDouble(double v);

// Strict number parsing of the whole text; nullopt for empty text, trailing garbage, NaN or
// infinity.
std::optional<double> ParseFiniteDouble(std::string_view s);
std::optional<int64_t> ParseInt64(std::string_view s);

// Lower-case hex of the bytes.
std::string HexEncode(std::string_view bytes);

// Standard base64 (RFC 4648 §4, with padding).
std::string Base64Encode(std::string_view bytes);
// Strict: the standard alphabet, length a multiple of 4, padding only at the end; nullopt
// otherwise.
std::optional<std::string> Base64Decode(std::string_view text);

// True when `s` is valid UTF-8.
bool IsValidUtf8(std::string_view s);

// `text` with the password of every URL in it replaced by "***": in
// scheme://user:password@host..., the password is what follows the first ':' of the userinfo
// (the authority up to its last '@'; the authority ends at '/', '?', '#', whitespace, a double
// quote, '<', '>' or '\\'), and in the query (after the first '?', up to '#', whitespace, a
// double quote, '<', '>' or '\\') the value of every `password=` and `sslpassword=` parameter
// (names in any case; the value ends at '&'), as libpq takes them. The user, host, port, path,
// other parameters and everything outside URLs stay as they were; percent-encoded passwords
// are redacted as written. Each URL of the text is redacted. A password with an unencoded '/',
// '?' or '#' in the userinfo makes no valid URL (libpq refuses it too) and is not recognised.
std::string RedactUrlCredentials(std::string_view text);

}  // namespace propgrade
