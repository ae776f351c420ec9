#include "store/row_codec.h"

#include <openssl/evp.h>
#include <zstd.h>

#include <cstring>

namespace propgrade {

namespace {

constexpr char kMagic[4] = {'P', 'G', 'R', '1'};
enum Tag : unsigned char { kNull, kInt, kReal, kFalse, kTrue, kText };

void PutU64(std::string* out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool U64(uint64_t* v) {
    if (s_.size() < 8) return false;
    std::memcpy(v, s_.data(), 8);
    s_.remove_prefix(8);
    return true;
  }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && !s_.empty(); shift += 7) {
      const auto b = static_cast<unsigned char>(s_.front());
      s_.remove_prefix(1);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool Byte(unsigned char* b) {
    if (s_.empty()) return false;
    *b = static_cast<unsigned char>(s_.front());
    s_.remove_prefix(1);
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (s_.size() < n) return false;
    *out = s_.substr(0, n);
    s_.remove_prefix(n);
    return true;
  }
  bool done() const { return s_.empty(); }

 private:
  std::string_view s_;
};

Status Corrupt(const std::string& what) {
  return DataLossError("partition_history rows are corrupt: " + what);
}

}  // namespace

std::string EncodeRows(const std::vector<Row>& rows) {
  std::string raw(kMagic, 4);
  PutVarint(&raw, rows.size());
  PutVarint(&raw, rows.empty() ? 0 : rows.front().size());
  for (const Row& row : rows) {
    for (const Value& v : row) {
      if (v.is_null()) {
        raw.push_back(kNull);
      } else if (v.is_int()) {
        raw.push_back(kInt);
        PutU64(&raw, static_cast<uint64_t>(v.as_int()));
      } else if (v.is_real()) {
        raw.push_back(kReal);
        uint64_t bits;
        const double d = v.as_real();
        std::memcpy(&bits, &d, 8);
        PutU64(&raw, bits);
      } else if (v.is_bool()) {
        raw.push_back(v.as_bool() ? kTrue : kFalse);
      } else {
        const std::string& t = v.as_text();
        raw.push_back(kText);
        PutVarint(&raw, t.size());
        raw.append(t);
      }
    }
  }
  // Level 1 (fast), with the frame's checksum so a damaged text fails to decode.
  std::string packed(ZSTD_compressBound(raw.size()), '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  const size_t n = ZSTD_compress2(cctx, packed.data(), packed.size(), raw.data(), raw.size());
  ZSTD_freeCCtx(cctx);
  packed.resize(ZSTD_isError(n) ? 0 : n);
  std::string out(4 * ((packed.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(packed.data()),
                                      static_cast<int>(packed.size()));
  out.resize(written < 0 ? 0 : static_cast<size_t>(written));
  return out;
}

StatusOr<std::vector<Row>> DecodeRows(const TableDef& table, std::string_view text) {
  if (text.size() % 4 != 0) return Corrupt("base64 of a bad length");
  std::string packed(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(packed.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return Corrupt("not base64");
  // EVP_DecodeBlock counts the padding's zero bytes: drop one per '='.
  size_t size = static_cast<size_t>(n);
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;
  packed.resize(size);
  const unsigned long long raw_size = ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (raw_size == ZSTD_CONTENTSIZE_ERROR || raw_size == ZSTD_CONTENTSIZE_UNKNOWN ||
      raw_size > (1ull << 34)) {
    return Corrupt("not a zstd frame");
  }
  std::string raw(raw_size, '\0');
  const size_t got = ZSTD_decompress(raw.data(), raw.size(), packed.data(), packed.size());
  if (ZSTD_isError(got) || got != raw.size()) return Corrupt("zstd failed");
  Reader r(raw);
  std::string_view magic;
  uint64_t rows = 0, width = 0;
  if (!r.Bytes(4, &magic) || magic != std::string_view(kMagic, 4) || !r.Varint(&rows) ||
      !r.Varint(&width)) {
    return Corrupt("no header");
  }
  if (rows > 0 && width != table.columns.size()) {
    return Corrupt("rows of " + std::to_string(width) + " columns for " + table.name + " (" +
                   std::to_string(table.columns.size()) + ")");
  }
  std::vector<Row> out;
  out.reserve(rows);
  for (uint64_t i = 0; i < rows; ++i) {
    Row row(width);
    for (uint64_t c = 0; c < width; ++c) {
      unsigned char tag;
      uint64_t u;
      std::string_view bytes;
      if (!r.Byte(&tag)) return Corrupt("truncated");
      switch (tag) {
        case kNull:
          break;
        case kInt:
          if (!r.U64(&u)) return Corrupt("truncated");
          row[c] = Value::Int(static_cast<int64_t>(u));
          break;
        case kReal: {
          if (!r.U64(&u)) return Corrupt("truncated");
          double d;
          std::memcpy(&d, &u, 8);
          row[c] = Value::Real(d);
          break;
        }
        case kFalse:
          row[c] = Value::Bool(false);
          break;
        case kTrue:
          row[c] = Value::Bool(true);
          break;
        case kText:
          if (!r.Varint(&u) || !r.Bytes(u, &bytes)) return Corrupt("truncated");
          row[c] = Value::Text(std::string(bytes));
          break;
        default:
          return Corrupt("unknown cell tag");
      }
    }
    out.push_back(std::move(row));
  }
  if (!r.done()) return Corrupt("trailing bytes");
  return out;
}

}  // namespace propgrade
