// A ClickHouse HTTP client for live mode (cpp-httplib): SQL in the request body, data as a
// TabSeparated body after `INSERT ... FORMAT TabSeparated` in the URL, settings as URL
// parameters. 18.16 has no query parameters, so data values never become SQL text.
//
// Credentials come from the environment (SHARDLAB_CLICKHOUSE_USER, SHARDLAB_CLICKHOUSE_PASSWORD;
// default user `default`, no password) and travel as HTTP basic auth; they are never put into a
// message. One client is one connection: use one per thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "base/errors.h"
#include "live/loopback_cluster.h"

namespace httplib {
class Client;
}

namespace shardlab::live {

// A request the server refused or could not be sent; `server_code` is ClickHouse's error code
// ("Code: 252" -> 252; 0 when the server never answered).
class ClickHouseError : public RuntimeError {
 public:
  ClickHouseError(const std::string& what, int server_code)
      : RuntimeError(what), server_code_(server_code) {}
  int server_code() const { return server_code_; }
  bool unreachable() const { return server_code_ == 0; }

 private:
  int server_code_;
};

using Settings = std::map<std::string, std::string>;

class ClickHouseClient {
 public:
  // `database` is where unqualified table names resolve (empty: the server's default).
  ClickHouseClient(Endpoint endpoint, std::chrono::milliseconds timeout, std::string database = {});
  ~ClickHouseClient();
  ClickHouseClient(ClickHouseClient&&) noexcept;

  // The answer as TabSeparated text. Throws ClickHouseError naming the server's address and the
  // first line of the statement.
  std::string query(const std::string& sql, const Settings& settings = {});
  // Sends `tsv` (TabSeparated rows, '\n'-terminated) into `table` (a qualified name).
  void insert(const std::string& table, const std::string& tsv, const Settings& settings = {});
  // True if GET /ping answers.
  bool ping();

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  // POSTs `body` with `params` (and the database) in the URL.
  std::string post(std::multimap<std::string, std::string> params, const std::string& body,
                   const std::string& what);

  Endpoint endpoint_;
  std::string database_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace shardlab::live
