// Identifiers: run ids (time-ordered, unique) and lock holder ids (unique per process).
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace propgrade {

// `YYYYMMDDTHHMMSSZ-xxxxxxxx`: the UTC second of `now_micros` and 32 random bits, so ids sort
// by time and two processes starting in the same second still differ.
std::string NewRunId(int64_t now_micros);

// `host:pid:random`, computed once per process.
const std::string& ProcessHolderId();

// `n` lower-case hex digits of randomness.
std::string RandomHex(int n);

}  // namespace propgrade
