// Sizes ("256M", "1G", "4096") and durations ("1.5s", "500ms", "2m") as users write them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cell {

// Binary units: K=1024. Accepts K, M, G, T with optional "i"/"B" ("256M", "256MiB", "1g").
// Plain numbers are bytes. nullopt with `why` filled on error.
std::optional<std::uint64_t> parse_size(std::string_view text, std::string& why);
// "1.5s", "500ms", "250us", "10ns", "2m", "1h"; a plain number is seconds.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text, std::string& why);
// "1.5s"-style round-trippable text.
std::string format_duration(std::chrono::nanoseconds d);
// "256M"-style text when exact, else bytes.
std::string format_size(std::uint64_t bytes);

}  // namespace cell
