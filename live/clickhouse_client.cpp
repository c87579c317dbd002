#include "live/clickhouse_client.h"

#include <fmt/format.h>
#include <httplib.h>

#include <cstdlib>

namespace shardlab::live {

namespace {

std::string first_line(const std::string& text) {
  const size_t start = text.find_first_not_of(" \n\t");
  if (start == std::string::npos) return {};
  const size_t end = text.find('\n', start);
  std::string line = text.substr(start, end == std::string::npos ? end : end - start);
  if (line.size() > 120) line = line.substr(0, 117) + "...";
  return line;
}

// "Code: 252, e.displayText() = ..." -> 252.
int error_code_of(const std::string& body) {
  const size_t at = body.find("Code: ");
  if (at == std::string::npos) return -1;
  return std::atoi(body.c_str() + at + 6);
}

}  // namespace

ClickHouseClient::ClickHouseClient(Endpoint endpoint, std::chrono::milliseconds timeout,
                                   std::string database)
    : endpoint_(std::move(endpoint)),
      database_(std::move(database)),
      http_(std::make_unique<httplib::Client>(endpoint_.host, endpoint_.port)) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout - seconds);
  http_->set_connection_timeout(seconds.count(), micros.count());
  http_->set_read_timeout(seconds.count(), micros.count());
  http_->set_write_timeout(seconds.count(), micros.count());
  http_->set_keep_alive(true);
  // A request goes out as headers then body: with Nagle's algorithm the body waits for the
  // server's delayed ACK, adding ~40 ms to every request.
  http_->set_tcp_nodelay(true);
  const char* user = std::getenv("SHARDLAB_CLICKHOUSE_USER");
  const char* password = std::getenv("SHARDLAB_CLICKHOUSE_PASSWORD");
  if (user != nullptr && *user != '\0') {
    http_->set_basic_auth(user, password != nullptr ? password : "");
  }
}

ClickHouseClient::~ClickHouseClient() = default;
ClickHouseClient::ClickHouseClient(ClickHouseClient&&) noexcept = default;

std::string ClickHouseClient::post(httplib::Params params, const std::string& body,
                                   const std::string& what) {
  if (!database_.empty()) params.emplace("database", database_);
  const httplib::Result result =
      http_->Post(httplib::append_query_params("/", params), body, "text/plain; charset=UTF-8");
  if (!result) {
    throw ClickHouseError(
        fmt::format("ClickHouse at {} did not answer ({}) to: {}", endpoint_.address(),
                    httplib::to_string(result.error()), what),
        0);
  }
  if (result->status != 200) {
    throw ClickHouseError(
        fmt::format("ClickHouse at {} refused (HTTP {}): {}\n  {}", endpoint_.address(),
                    result->status, what, first_line(result->body)),
        error_code_of(result->body));
  }
  return result->body;
}

std::string ClickHouseClient::query(const std::string& sql, const Settings& settings) {
  httplib::Params params(settings.begin(), settings.end());
  params.emplace("default_format", "TabSeparated");
  return post(std::move(params), sql, first_line(sql));
}

void ClickHouseClient::insert(const std::string& table, const std::string& tsv,
                              const Settings& settings) {
  const std::string statement = "INSERT INTO " + table + " FORMAT TabSeparated";
  httplib::Params params(settings.begin(), settings.end());
  params.emplace("query", statement);
  post(std::move(params), tsv, statement);
}

bool ClickHouseClient::ping() {
  const httplib::Result result = http_->Get("/ping");
  return result && result->status == 200;
}

}  // namespace shardlab::live
