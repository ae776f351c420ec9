// Value: one nullable cell of a table row, and Row: the cells of one row in the column order of
// its TableDef. Dates and timestamps travel as their canonical text (YYYY-MM-DD and
// YYYY-MM-DDTHH:MM:SS.ffffffZ). Plain values; thread-compatible.
#pragma once

#include <cstdint>
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

  // NULL when `v` is empty.
  static Value OptInt(const std::optional<int64_t>& v) { return v ? Int(*v) : Value(); }
  static Value OptReal(const std::optional<double>& v) { return v ? Real(*v) : Value(); }
  static Value OptBool(const std::optional<bool>& v) { return v ? Bool(*v) : Value(); }
  static Value OptText(const std::optional<std::string>& v) { return v ? Text(*v) : Value(); }

  bool is_null() const { return v_.index() == 0; }
  bool is_int() const { return v_.index() == 1; }
  bool is_real() const { return v_.index() == 2; }
  bool is_bool() const { return v_.index() == 3; }
  bool is_text() const { return v_.index() == 4; }

  int64_t as_int() const { return std::get<1>(v_); }
  double as_real() const { return std::get<2>(v_); }
  bool as_bool() const { return std::get<3>(v_); }
  const std::string& as_text() const { return std::get<4>(v_); }

  // Lenient numeric reads for values that came back from a store (an INTEGER column may hold
  // a real and vice versa): nullopt for NULL or text.
  std::optional<double> ToReal() const;
  std::optional<int64_t> ToInt() const;
  std::optional<bool> ToBool() const;
  std::optional<std::string> ToText() const;  // text only; nullopt otherwise

  friend bool operator==(const Value& a, const Value& b) = default;

 private:
  using Storage = std::variant<std::monostate, int64_t, double, bool, std::string>;
  explicit Value(Storage v) : v_(std::move(v)) {}
  Storage v_;
};

using Row = std::vector<Value>;

}  // namespace propgrade
