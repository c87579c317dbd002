// The template half of fuzz_input.h.
#pragma once

#include <exception>
#include <string>
#include <typeinfo>

#include "base/errors.h"

namespace shardlab::fuzz {

template <typename Body>
bool expect_clean(Body&& body, bool data_errors_ok) {
  const auto check_message = [](const std::exception& e) {
    if (std::string_view(e.what()).empty()) report_bug("an error without a message");
  };
  try {
    body();
    return true;
  } catch (const InputError& e) {
    check_message(e);
  } catch (const CorruptionError& e) {
    if (!data_errors_ok) report_bug(std::string("CorruptionError: ") + e.what());
    check_message(e);
  } catch (const RuntimeError& e) {
    if (!data_errors_ok) report_bug(std::string("RuntimeError: ") + e.what());
    check_message(e);
  } catch (const std::exception& e) {
    report_bug(std::string("unexpected exception ") + typeid(e).name() + ": " + e.what());
  } catch (...) {
    report_bug("an exception that is not a std::exception");
  }
  return false;
}

}  // namespace shardlab::fuzz
