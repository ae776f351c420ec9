// HttpClient: outgoing HTTP(S) requests (etcd's JSON gateway, alert webhooks) behind a small
// interface, so tests can inject failures. The libcurl implementation keeps connections alive
// between calls and handles chunked bodies with trailers (which etcd's gateway sends on
// errors). Thread-safe: calls on one client are serialised.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace propgrade {

struct HttpResponse {
  int status = 0;
  std::string body;
  // The response's Date header (the server's clock, 1 s resolution) in microseconds since the
  // Unix epoch; 0 when absent or unreadable.
  int64_t date_micros = 0;
};

struct HttpRequestOptions {
  int connect_timeout_ms = 1000;  // Default: 1 s
  int timeout_ms = 5000;          // the whole request. Default: 5 s
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_file;            // HTTPS trust store; empty = the system bundle
  // A streamed response (e.g. an etcd watch): when set, the body is read until this returns
  // true for the body so far, or until timeout_ms passes; either way the call succeeds with
  // the body read (and the connection is closed).
  std::function<bool(std::string_view body)> stop_when;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // POSTs `body`; any HTTP status is a response. Errors: Unavailable when no response arrived
  // (connection refused, timeout); the message never includes the URL's query or userinfo.
  virtual StatusOr<HttpResponse> Post(const std::string& url, const std::string& body,
                                      const std::string& content_type,
                                      const HttpRequestOptions& options) = 0;
};

std::unique_ptr<HttpClient> NewCurlHttpClient();

}  // namespace propgrade
