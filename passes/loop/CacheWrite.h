//===- CacheWrite.h - cache_write: accumulators in a local buffer -*- C++ -*-//
//
// The cache_write directive of apply-schedule (CacheWrite.cpp says what it
// does and when it is legal).
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOOP_CACHEWRITE_H
#define TIDAL_PASSES_LOOP_CACHEWRITE_H

#include "compiler/Loop.h"
#include <set>
#include <string>

namespace tidal {
namespace loop {

/// Makes the body of loop Loop work on a local copy of the region of
/// buffer Buf (a parameter) that one of its iterations touches: copied in
/// before, written back after. Names holds every name of the kernel; the
/// new ones are added. Returns an empty string on success (Body
/// rewritten), else why not.
std::string cacheWrite(Stmt &Body, const std::vector<BufferDecl> &Params,
                       const std::string &Buf, const std::string &Loop,
                       std::set<std::string> &Names);

} // namespace loop
} // namespace tidal

#endif
