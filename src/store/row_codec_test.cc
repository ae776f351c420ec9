#include "store/row_codec.h"

#include <gtest/gtest.h>

#include <cmath>

namespace propgrade {
namespace {

TEST(RowCodecTest, RowsComeBackExactly) {
  const TableDef& t = tables::DailyPerformance();
  std::vector<Row> rows;
  for (int i = 0; i < 300; ++i) {
    Row r(t.columns.size());
    r[daily::game_date] = Value::Text("2026-01-16");
    r[daily::system_id] = Value::Text("system_" + std::to_string(i % 7) + std::string(i % 3, 'x'));
    r[daily::predictions_count] = Value::Int(-5 + i * 1000003LL);
    r[daily::win_rate] = Value::Real(i == 1 ? -0.0 : 0.1 * i + 1e-17);
    if (i % 5) r[daily::mae] = Value::Real(std::nextafter(1.0 / 3, 1.0));
    r[daily::run_id] = Value::Text(i % 4 ? "run" : "");  // the empty text is not NULL
    rows.push_back(std::move(r));
  }
  const std::string text = EncodeRows(rows);
  auto back = DecodeRows(t, text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, rows);
  EXPECT_TRUE(std::signbit((*back)[1][daily::win_rate].as_real()));
  EXPECT_TRUE((*back)[0][daily::mae].is_null());
  EXPECT_LT(text.size(), 300u * 40);  // compressed

  auto none = DecodeRows(t, EncodeRows({}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(RowCodecTest, CorruptTextIsDataLossNotACrash) {
  const TableDef& t = tables::DailyPerformance();
  Row r(t.columns.size());
  r[daily::system_id] = Value::Text("a");
  const std::string text = EncodeRows({r});
  EXPECT_EQ(DecodeRows(t, "abc").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeRows(t, "AAAA").status().code(), StatusCode::kDataLoss);
  std::string flipped = text;
  flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(DecodeRows(t, flipped).ok());
  EXPECT_EQ(DecodeRows(tables::Accuracy(), text).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace propgrade
