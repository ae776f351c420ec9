#include "common/status.h"

#include <gtest/gtest.h>

namespace propgrade {
namespace {

StatusOr<int> Half(int v) {
  if (v % 2) return InvalidArgumentError("odd");
  return v / 2;
}

Status UseHalf(int v, int* out) {
  ASSIGN_OR_RETURN(*out, Half(v));
  RETURN_IF_ERROR(*out > 10 ? Status(StatusCode::kOutOfRange, "big") : OkStatus());
  return OkStatus();
}

TEST(StatusTest, CarriesCodeMessageAndReason) {
  Status s = AbortedError("stale token", StatusReason::kFencedOut);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(s.reason(), StatusReason::kFencedOut);
  EXPECT_EQ(s.ToString(), "ABORTED: stale token");
  EXPECT_EQ(s.WithContext("write").message(), "write: stale token");
  EXPECT_EQ(s.WithContext("write").reason(), StatusReason::kFencedOut);
  EXPECT_TRUE(OkStatus().ok());
}

TEST(StatusTest, MacrosPropagate) {
  int out = 0;
  EXPECT_TRUE(UseHalf(8, &out).ok());
  EXPECT_EQ(out, 4);
  EXPECT_EQ(UseHalf(3, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(UseHalf(40, &out).code(), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace propgrade
