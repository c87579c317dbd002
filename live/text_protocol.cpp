#include "live/text_protocol.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace shardlab::live {

std::string exchange(const Endpoint& endpoint, std::string_view request,
                     const std::function<bool(const std::string&)>& complete) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(endpoint.host.c_str(), std::to_string(endpoint.port).c_str(), &hints, &found) !=
      0) {
    return {};
  }
  std::string answer;
  for (const addrinfo* a = found; a != nullptr && answer.empty(); a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const timeval timeout{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      while (!complete(answer)) {
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        answer.append(buffer, static_cast<size_t>(got));
      }
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return answer;
}

bool memcached_answers(const Endpoint& endpoint) {
  const std::string answer = exchange(endpoint, "version\r\n", [](const std::string& text) {
    return text.find("\r\n") != std::string::npos;
  });
  return answer.rfind("VERSION ", 0) == 0;
}

std::pair<uint64_t, uint64_t> memcached_gets(const Endpoint& endpoint) {
  const std::string reply = exchange(endpoint, "stats\r\n", [](const std::string& text) {
    return text.find("END\r\n") != std::string::npos;
  });
  const auto stat = [&reply](const std::string& name) -> uint64_t {
    const size_t at = reply.find("STAT " + name + " ");
    return at == std::string::npos
               ? 0
               : std::strtoull(reply.c_str() + at + name.size() + 6, nullptr, 10);
  };
  return {stat("get_hits"), stat("get_misses")};
}

}  // namespace shardlab::live
