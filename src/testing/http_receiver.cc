#include "testing/http_receiver.h"

#include <httplib.h>

#include <stdlib.h>

#include <chrono>
#include <cstdlib>

namespace propgrade::testing {

namespace {

// A self-signed certificate for 127.0.0.1 in a fresh directory (openssl(1)).
bool MakeCertificate(const std::string& dir, const std::string& cert, const std::string& key) {
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
                    "-addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert +
                    " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

std::unique_ptr<httplib::Server> NewServer(bool tls, std::string* dir, std::string* cert,
                                           std::string* key) {
  if (!tls) return std::make_unique<httplib::Server>();
  char tmpl[] = "/tmp/propgrade-tls-XXXXXX";
  *dir = mkdtemp(tmpl);
  *cert = *dir + "/cert.pem";
  *key = *dir + "/key.pem";
  if (!MakeCertificate(*dir, *cert, *key)) return std::make_unique<httplib::Server>();
  return std::make_unique<httplib::SSLServer>(cert->c_str(), key->c_str());
}

}  // namespace

HttpReceiver::HttpReceiver(bool tls)
    : server_(NewServer(tls, &dir_, &cert_, &key_)), tls_(tls) {
  server_->set_tcp_nodelay(true);
  server_->Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    int status, delay;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back({req.path, req.body, req.get_header_value("Content-Type")});
      status = status_;
      delay = delay_ms_;
    }
    if (delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    res.status = status;
    res.set_content("ok", "text/plain");
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

HttpReceiver::~HttpReceiver() {
  Stop();
  if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
}

void HttpReceiver::Stop() {
  if (server_->is_running()) server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string HttpReceiver::url(const std::string& path) const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<ReceivedRequest> HttpReceiver::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void HttpReceiver::set_status(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
}

void HttpReceiver::set_delay_ms(int delay_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ms_ = delay_ms;
}

}  // namespace propgrade::testing
