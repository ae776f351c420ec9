// HttpReceiver: a real local HTTP server (cpp-httplib on 127.0.0.1, a free port) that records
// every request, for tests of outgoing webhooks. It can answer with an error status or slowly.
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace propgrade::testing {

struct ReceivedRequest {
  std::string path;
  std::string body;
  std::string content_type;
};

class HttpReceiver {
 public:
  // `tls`: HTTPS with a fresh self-signed certificate for 127.0.0.1 (see ca_file()).
  explicit HttpReceiver(bool tls = false);
  ~HttpReceiver();

  std::string url(const std::string& path = "/hook") const;
  // HTTPS: the certificate to trust (PEM).
  const std::string& ca_file() const { return cert_; }
  int port() const { return port_; }
  std::vector<ReceivedRequest> requests() const;
  // Answer every request with this status (default 200) after `delay_ms`.
  void set_status(int status);
  void set_delay_ms(int delay_ms);
  void Stop();

 private:
  std::string dir_, cert_, key_;  // before server_: NewServer fills them
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  bool tls_ = false;
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;
  int status_ = 200;
  int delay_ms_ = 0;
};

}  // namespace propgrade::testing
