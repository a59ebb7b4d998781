#pragma once

#include <string>

namespace cell::runtime {

// SPEC "Names": $CELL_DATA, else /var/lib/cell as root, else $XDG_DATA_HOME/cell
// (~/.local/share/cell).
std::string default_data_dir();
// $CELL_RUNTIME, else /run/cell as root, else $XDG_RUNTIME_DIR/cell, else /tmp/cell-$UID.
std::string default_runtime_dir();

}  // namespace cell::runtime
