//===- CacheWrite.h - Buffers in local storage ------------------*- C++ -*-===//
//
// The cache_write and store_at directives of apply-schedule
// (CacheWrite.cpp says what they do and when they are legal).
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

/// Gives buffer Buf (a parameter) local storage in the body of loop Loop,
/// sized to the region one iteration touches, instead of its parameter.
/// The caller must know that each iteration writes every element it reads
/// before reading it (compute_at placed Buf's only producer at Loop or
/// inside it) and that nothing outside Loop touches Buf. Returns an empty
/// string on success, else why not.
std::string storeAt(Stmt &Body, const std::vector<BufferDecl> &Params,
                    const std::string &Buf, const std::string &Loop,
                    std::set<std::string> &Names);

} // namespace loop
} // namespace tidal

#endif
