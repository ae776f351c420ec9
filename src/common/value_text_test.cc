#include "common/value_text.h"

#include <gtest/gtest.h>

#include <limits>

namespace propgrade {
namespace {

TEST(ValueTextTest, CellText) {
  EXPECT_EQ(FormatCell(Value()), "");
  EXPECT_EQ(FormatCell(Value::Bool(true)), "true");
  EXPECT_EQ(FormatCell(Value::Int(-3)), "-3");
  EXPECT_EQ(FormatCell(Value::Real(20.5)), "20.5");
  EXPECT_EQ(FormatCell(Value::Real(20.0)), "20");
  EXPECT_EQ(FormatCell(Value::Text("a,b")), "a,b");
}

TEST(ValueTextTest, JsonObjectKeepsOrderTypesAndEscapes) {
  std::string j = JsonObject(
      {"s", "n", "r", "b", "z", "inf"},
      {Value::Text("say \"hi\"\n"), Value::Int(7), Value::Real(0.1), Value::Bool(false), Value(),
       Value::Real(std::numeric_limits<double>::infinity())});
  EXPECT_EQ(j, R"({"s":"say \"hi\"\n","n":7,"r":0.1,"b":false,"z":null,"inf":null})");
  std::string bad;
  AppendJsonString(&bad, "\xff");
  EXPECT_EQ(bad, "\"\xef\xbf\xbd\"");  // invalid UTF-8 becomes U+FFFD
}

}  // namespace
}  // namespace propgrade
