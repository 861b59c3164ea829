// Result<T, E>: a value or an error, without exceptions (they must never cross
// the C boundary of an interposed call). The default error is an errno value.
#pragma once

#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace socksify {

// A positive errno value, e.g. Errno{ECONNREFUSED}.
struct Errno {
  int code = 0;
  friend bool operator==(Errno, Errno) = default;
};

// A human-readable failure (parsers of URLs, config lines, ...).
struct Message {
  std::string text;
  friend bool operator==(const Message&, const Message&) = default;
};

template <class T, class E = Errno>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Result<void>: success or an error.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : err_(std::move(error)) {}  // NOLINT: implicit on purpose
  bool ok() const { return !err_.has_value(); }
  explicit operator bool() const { return ok(); }
  const E& error() const { return *err_; }

 private:
  std::optional<E> err_;
};

using Status = Result<void, Errno>;

}  // namespace socksify
