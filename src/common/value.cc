#include "common/value.h"

namespace propgrade {

std::optional<double> Value::ToReal() const {
  if (is_real()) return as_real();
  if (is_int()) return static_cast<double>(as_int());
  return std::nullopt;
}

std::optional<int64_t> Value::ToInt() const {
  if (is_int()) return as_int();
  if (is_real()) return static_cast<int64_t>(as_real());
  if (is_bool()) return as_bool() ? 1 : 0;
  return std::nullopt;
}

std::optional<bool> Value::ToBool() const {
  if (is_bool()) return as_bool();
  if (is_int()) return as_int() != 0;
  return std::nullopt;
}

std::optional<std::string> Value::ToText() const {
  if (is_text()) return as_text();
  return std::nullopt;
}

}  // namespace propgrade
