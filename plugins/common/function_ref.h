// FunctionRef: a non-owning reference to a callable, for per-frame and per-record sinks on hot
// paths (no allocation, one indirect call; std::function may allocate and is larger).
#pragma once

#include <type_traits>
#include <utility>

namespace ingestd::inputs {

template <class Signature>
class FunctionRef;

// Refers to the callable it was built from; that callable must outlive every call. Pass it by
// value; bind it only to a callable that lives at least as long as the call that receives it
// (a lambda written at the call site is the usual case).
template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  // Any callable but a FunctionRef itself (that one is copied). Implicit on purpose, like
  // std::function.
  template <class F,
            class = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
                                     std::is_invocable_r_v<R, F&, Args...>>>
  // NOLINTNEXTLINE(google-explicit-constructor,bugprone-forwarding-reference-overload)
  FunctionRef(F&& f) noexcept
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* obj, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(obj))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

 private:
  void* obj_;
  R (*call_)(void*, Args...);
};

}  // namespace ingestd::inputs
