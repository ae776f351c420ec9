// Cryptographic hashing (OpenSSL). Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace propgrade {

// Lower-case hex SHA-256 of `data` (64 digits).
std::string Sha256Hex(std::string_view data);

}  // namespace propgrade
