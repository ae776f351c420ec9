// Value: one nullable cell of a table row, and Row: the cells of one row in the column order of
// its TableDef. Dates and timestamps travel as their canonical text (YYYY-MM-DD and
// YYYY-MM-DDTHH:MM:SS.ffffffZ). Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace propgrade {

class Value {
 public:
  Value() = default;  // NULL
  static Value Null() { return Value(); }
  static Value Int(int64_t v) { return Value(Storage(std::in_place_index<1>, v)); }
  static Value Real(double v) { return Value(Storage(std::in_place_index<2>, v)); }
  static Value Bool(bool v) { return Value(Storage(std::in_place_index<3>, v)); }
  static Value Text(std::string v) { return Value(Storage(std::in_place_index<4>, std::move(v))); }
  // The same text as Text(*v), shared: copies of the value share one string (for a text that
  // many rows repeat). `v` must not be null.
  static Value SharedText(std::shared_ptr<const std::string> v) {
    return Value(Storage(std::in_place_index<5>, std::move(v)));
  }
  static Value SharedText(std::string v) {
    return SharedText(std::make_shared<const std::string>(std::move(v)));
  }

  // NULL when `v` is empty.
  static Value OptInt(const std::optional<int64_t>& v) { return v ? Int(*v) : Value(); }
  static Value OptReal(const std::optional<double>& v) { return v ? Real(*v) : Value(); }
  static Value OptBool(const std::optional<bool>& v) { return v ? Bool(*v) : Value(); }
  static Value OptText(const std::optional<std::string>& v) { return v ? Text(*v) : Value(); }

  bool is_null() const { return v_.index() == 0; }
  bool is_int() const { return v_.index() == 1; }
  bool is_real() const { return v_.index() == 2; }
  bool is_bool() const { return v_.index() == 3; }
  bool is_text() const { return v_.index() >= 4; }

  int64_t as_int() const { return std::get<1>(v_); }
  double as_real() const { return std::get<2>(v_); }
  bool as_bool() const { return std::get<3>(v_); }
  const std::string& as_text() const {
    return v_.index() == 4 ? std::get<4>(v_) : *std::get<5>(v_);
  }

  // Lenient numeric reads for values that came back from a store (an INTEGER column may hold
  // a real and vice versa): nullopt for NULL or text.
  std::optional<double> ToReal() const;
  std::optional<int64_t> ToInt() const;
  std::optional<bool> ToBool() const;
  std::optional<std::string> ToText() const;  // text only; nullopt otherwise

  // Texts compare by content, shared or not.
  friend bool operator==(const Value& a, const Value& b) {
    if (a.is_text() || b.is_text()) {
      return a.is_text() && b.is_text() && a.as_text() == b.as_text();
    }
    return a.v_ == b.v_;
  }

 private:
  using Storage = std::variant<std::monostate, int64_t, double, bool, std::string,
                               std::shared_ptr<const std::string>>;
  explicit Value(Storage v) : v_(std::move(v)) {}
  Storage v_;
};

using Row = std::vector<Value>;

}  // namespace propgrade
