#include "common/decimal.h"

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

namespace propgrade {

double RoundHalfAway(double v, int places) {
  if (v == 0 || !std::isfinite(v)) return v == 0 ? 0.0 : v;
  bool negative = v < 0;
  double mag = negative ? -v : v;
  // Away from a tie the shortest decimal and the binary value round alike, and the
  // quotient of two exact doubles is the correctly rounded decimal result. The computed
  // product is within 1e-6 of mag·10^places below 1e9.
  static constexpr double kPow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
  if (places >= 0 && places <= 8) {
    double scale = kPow10[places];
    double t = mag * scale;
    if (t < 1e9) {
      double whole = std::floor(t);
      double frac = t - whole;
      if (std::fabs(frac - 0.5) > 1e-6) {
        double r = (whole + (frac > 0.5 ? 1 : 0)) / scale;
        if (r == 0) return 0.0;
        return negative ? -r : r;
      }
    }
  }
  return RoundShortestDecimal(v, places);
}

double RoundShortestDecimal(double v, int places) {
  if (v == 0 || !std::isfinite(v)) return v == 0 ? 0.0 : v;
  bool negative = v < 0;
  double mag = negative ? -v : v;
  char buf[400];
  auto res = std::to_chars(buf, buf + sizeof buf, mag, std::chars_format::fixed);
  std::string_view text(buf, res.ptr - buf);
  size_t dot = text.find('.');
  if (dot == std::string_view::npos || text.size() - dot - 1 <= static_cast<size_t>(places)) {
    return v;  // already has at most `places` decimals
  }
  // Keep the integer part and `places` decimals as a digit string, then round up when the
  // first dropped digit is 5 or more (half away from zero on the magnitude).
  std::string digits(text.substr(0, dot));
  digits.append(text.substr(dot + 1, places));
  bool round_up = text[dot + 1 + places] >= '5';
  if (round_up) {
    int i = static_cast<int>(digits.size()) - 1;
    while (i >= 0 && digits[i] == '9') digits[i--] = '0';
    if (i >= 0) {
      ++digits[i];
    } else {
      digits.insert(digits.begin(), '1');
    }
  }
  std::string out = digits.substr(0, digits.size() - places);
  if (places > 0) out += "." + digits.substr(digits.size() - places);
  double r = 0;
  std::from_chars(out.data(), out.data() + out.size(), r);
  if (r == 0) return 0.0;
  return negative ? -r : r;
}

}  // namespace propgrade
