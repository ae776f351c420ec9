#include "server/server.h"

#include <gtest/gtest.h>

namespace propgrade::server {
namespace {

TEST(IsLoopbackHostTest, OnlyLoopbackLiteralsAndLocalhost) {
  for (const char* host : {"127.0.0.1", "127.0.0.2", "127.255.255.254", "127.1.2.3", "::1",
                           "[::1]", "0:0:0:0:0:0:0:1", "[0:0:0:0:0:0:0:1]", "localhost",
                           "LocalHost"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host :
       {"127.evil.example", "127.0.0.1.evil.example", "127.", "127", "127.1", "127.0.0.256",
        "127.0.0.1 ", " 127.0.0.1", "0x7f.0.0.1", "128.0.0.1", "126.255.255.255", "0.0.0.0",
        "10.0.0.1", "::", "[::]", "::2", "::ffff:127.0.0.1", "[::1", "::1]", "localhost.evil",
        "localhost.", "evil-localhost", "", "[]", "example.com"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(IsLoopbackHostTest, AsParseListenSplitsTheAddress) {
  for (const char* listen : {"127.0.0.1:8080", "[::1]:8080", "localhost:0"}) {
    auto hp = ParseListen(listen);
    ASSERT_TRUE(hp.ok()) << listen;
    EXPECT_TRUE(IsLoopbackHost(hp->first)) << listen;
  }
  for (const char* listen : {"127.evil.example:8080", "0.0.0.0:8080", "[::]:8080"}) {
    auto hp = ParseListen(listen);
    ASSERT_TRUE(hp.ok()) << listen;
    EXPECT_FALSE(IsLoopbackHost(hp->first)) << listen;
  }
}

}  // namespace
}  // namespace propgrade::server
