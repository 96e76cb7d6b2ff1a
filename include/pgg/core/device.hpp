#pragma once
// Device tags. A tensor's device is part of its type, so mixing devices is a compile error.

namespace pgg {

struct cpu {
    static constexpr const char* name = "cpu";
};

struct cuda {
    static constexpr const char* name = "cuda";
};

} // namespace pgg
