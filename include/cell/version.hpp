#pragma once

namespace cell {
inline constexpr const char* kVersion = "0.1.0";
}
