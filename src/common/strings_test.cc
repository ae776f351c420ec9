#include "common/strings.h"
#include "common/hash.h"

#include <gtest/gtest.h>

#include <limits>

namespace propgrade {
namespace {

TEST(StringsTest, TrimUpperSplit) {
  EXPECT_EQ(Trim("  over \t"), "over");
  EXPECT_EQ(ToUpper("over"), "OVER");
  auto parts = Split("20260116_LAL_BOS", '_');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2], "BOS");
}

TEST(StringsTest, FormatDoubleIsShortestRoundTrip) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(25.0), "25");
  EXPECT_EQ(FormatDouble(-0.0), "0");
  EXPECT_EQ(FormatDouble(0.5375640295959021), "0.5375640295959021");
}

TEST(StringsTest, ParseFiniteDoubleRejectsNanInfAndGarbage) {
  EXPECT_EQ(ParseFiniteDouble("20.5"), 20.5);
  EXPECT_EQ(ParseFiniteDouble("+3"), 3.0);
  EXPECT_EQ(ParseFiniteDouble("-1e2"), -100.0);
  for (const char* bad : {"", "nan", "NaN", "inf", "-inf", "1e999", "20.5x", "twenty", " 1"}) {
    EXPECT_FALSE(ParseFiniteDouble(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseInt64("42"), 42);
  EXPECT_FALSE(ParseInt64("4.2").has_value());
}

TEST(StringsTest, Base64RoundTripsAndRejectsMalformedText) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff", 2)}) {
    std::string encoded = Base64Encode(s);
    EXPECT_EQ(Base64Decode(encoded), s) << encoded;
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Decode("eyJhIjoxfQ=="), "{\"a\":1}");
  for (const char* bad : {"Zm9", "Zm9v!", "Zm=v", "Z===", "Zm8=Zm9v", "Zm9v\n", "%%%%"}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

TEST(HashTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("s3cret-token", "s3cret-token"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret-token", "s3cret-tokeN"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret-token", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(StringsTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("Nikola Jokić"));
  EXPECT_FALSE(IsValidUtf8("\xff\xfe"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
}

TEST(StringsTest, RedactUrlCredentialsReplacesOnlyThePassword) {
  EXPECT_EQ(RedactUrlCredentials("postgresql://grader:s3cret@db.internal:5432/props?schema=x"),
            "postgresql://grader:***@db.internal:5432/props?schema=x");
  // The rest of the message is left alone, even where it holds the password's text: a
  // password "a" must not turn every 'a' of the message into "***".
  EXPECT_EQ(RedactUrlCredentials("cannot connect to postgresql://grader:a@127.0.0.1:1/a: "
                                 "is a server listening at that address?"),
            "cannot connect to postgresql://grader:***@127.0.0.1:1/a: "
            "is a server listening at that address?");
  EXPECT_EQ(RedactUrlCredentials("postgresql://u:1@h:1/db1 port 1"),
            "postgresql://u:***@h:1/db1 port 1");
  // Percent-encoded passwords, and ':' and '@' written as they are.
  EXPECT_EQ(RedactUrlCredentials("postgres://u:p%40ss%3Aw%2Fd@h/db"), "postgres://u:***@h/db");
  EXPECT_EQ(RedactUrlCredentials("postgres://u:pa:ss@h/db"), "postgres://u:***@h/db");
  EXPECT_EQ(RedactUrlCredentials("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
  // Several URLs, any scheme, inside quotes, brackets, or another URL's query.
  EXPECT_EQ(RedactUrlCredentials("lock 'etcd+https://root:pw1@e1:2379,e2:2379' and "
                                 "\"https://x:pw2@[::1]:443/p\", (smtp://m:pw3@mail)"),
            "lock 'etcd+https://root:***@e1:2379,e2:2379' and "
            "\"https://x:***@[::1]:443/p\", (smtp://m:***@mail)");
  EXPECT_EQ(RedactUrlCredentials("https://h/login?next=postgresql://u:pw@db/x"),
            "https://h/login?next=postgresql://u:***@db/x");
  EXPECT_EQ(RedactUrlCredentials("a\npostgresql://u:pw@h\tpostgresql://v:pw@h2\n"),
            "a\npostgresql://u:***@h\tpostgresql://v:***@h2\n");
  // Nothing to redact: no password, no userinfo, '@' after the authority, no scheme.
  for (const char* same :
       {"postgresql://grader@db.internal:5432/props", "postgresql://u:@h/db",
        "https://example.com:8443/users/@me", "http://h/a:b@c", "user:pw@host:5432",
        "://u:pw@h", "9://u:pw@h x", "", "no url at all: a, b", "sqlite:/var/lib/p.db",
        "a ratio of 3:1 @ home"}) {
    EXPECT_EQ(RedactUrlCredentials(same), same) << same;
  }
  EXPECT_EQ(RedactUrlCredentials("x9+a.b-c://u:pw@h"), "x9+a.b-c://u:***@h");
}

// libpq also takes the password as a query parameter (and the client key's as sslpassword).
TEST(StringsTest, RedactUrlCredentialsReplacesPasswordParameters) {
  EXPECT_EQ(RedactUrlCredentials("postgresql://grader@db:5432/props?schema=x&password=s3cret"),
            "postgresql://grader@db:5432/props?schema=x&password=***");
  EXPECT_EQ(RedactUrlCredentials("postgresql://db/props?password=p%26w&sslmode=require "
                                 "and more"),
            "postgresql://db/props?password=***&sslmode=require and more");
  EXPECT_EQ(RedactUrlCredentials("postgres://u:pw@h?PassWord=a&sslpassword=b#frag"),
            "postgres://u:***@h?PassWord=***&sslpassword=***#frag");
  EXPECT_EQ(RedactUrlCredentials("'postgresql://u@h/d?password=pw' and "
                                 "\"postgresql://v@h/d?password=pw2\""),
            "'postgresql://u@h/d?password=*** and \"postgresql://v@h/d?password=***\"");
  // A URL inside another's query, and a password parameter after it.
  EXPECT_EQ(RedactUrlCredentials("https://h/?next=postgresql://u:pw@db/x&password=zz"),
            "https://h/?next=postgresql://u:***@db/x&password=***");
  EXPECT_EQ(RedactUrlCredentials("https://h/?next=postgresql://u@db/x?password=pw&a=b"),
            "https://h/?next=postgresql://u@db/x?password=***&a=b");
  for (const char* same :
       {"postgresql://u@h/db?password=", "postgresql://u@h/db?user_password_hint=x",
        "postgresql://u@h/db?schema=password", "https://h/p#password=x",
        "sqlite:/p.db?password=x", "password=x"}) {
    EXPECT_EQ(RedactUrlCredentials(same), same) << same;
  }
}

}  // namespace
}  // namespace propgrade
