#include "common/ids.h"

#include <unistd.h>

#include <mutex>
#include <random>

#include "common/civil_date.h"

namespace propgrade {

std::string RandomHex(int n) {
  static std::mutex mu;
  static std::mt19937_64* rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), static_cast<unsigned>(getpid())};
    return new std::mt19937_64(seq);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::lock_guard<std::mutex> lock(mu);
  for (int i = 0; i < n; ++i) out += kHex[(*rng)() & 15];
  return out;
}

std::string NewRunId(int64_t now_micros) {
  std::string ts = FormatTimestampMicros(now_micros);  // YYYY-MM-DDTHH:MM:SS.ffffffZ
  std::string id;
  for (size_t i = 0; i < 19; ++i) {
    if (ts[i] != '-' && ts[i] != ':') id += ts[i];
  }
  return id + "Z-" + RandomHex(8);
}

const std::string& ProcessHolderId() {
  static const std::string* id = [] {
    char host[256] = {0};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
    return new std::string(std::string(host[0] ? host : "localhost") + ":" +
                           std::to_string(getpid()) + ":" + RandomHex(8));
  }();
  return *id;
}

}  // namespace propgrade
