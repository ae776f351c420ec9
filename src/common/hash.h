// Cryptographic hashing (OpenSSL). Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace propgrade {

// Lower-case hex SHA-256 of `data` (64 digits).
std::string Sha256Hex(std::string_view data);

// True when `a` equals `b`, in time independent of where they differ or of their lengths
// (compares SHA-256 digests with CRYPTO_memcmp). For secrets such as bearer tokens.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace propgrade
