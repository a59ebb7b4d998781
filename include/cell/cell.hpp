// The whole public API of libcell.
#pragma once

#include <cell/doctor.hpp>
#include <cell/error.hpp>
#include <cell/image.hpp>
#include <cell/gc.hpp>
#include <cell/profile.hpp>
#include <cell/result.hpp>
#include <cell/runtime.hpp>
#include <cell/units.hpp>
#include <cell/version.hpp>
