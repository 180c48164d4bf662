//===- Main.cpp - The main() of tidal-unit-tests --------------------------===//
//
// Every test/unit/*.cpp is globbed into one Catch2 binary; this file alone
// defines CATCH_CONFIG_MAIN, so Catch2's main() is compiled once.
//
//===----------------------------------------------------------------------===//

#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
