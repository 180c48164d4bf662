//===- Toolchain.cpp - Where the runtime is and what a link needs ---------===//
//
// The runtime archive is found relative to the tidalc executable, never by a
// path fixed at build time, so that a build tree or an installed tree can
// be moved: <bindir>/../lib/libtidalrt.a for the host (x86-64, and the host
// side of nvptx) and <bindir>/../lib/<target>/libtidalrt.a otherwise.
//
//===----------------------------------------------------------------------===//

#include "tools/tidalc/Tidalc.h"
#include "compiler/Diagnostics.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace tidal;

/// The folder under lib/ holding Target's archive ("" for the host's).
static llvm::StringRef runtimeSubdir(llvm::StringRef Target) {
  return Target == "cortex-a53" ? "cortex-a53" : "";
}

llvm::Expected<std::string> tidal::runtimeArchive(llvm::StringRef Target) {
  if (llvm::Error E = checkTarget(Target))
    return std::move(E);
  std::string Exe = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  if (Exe.empty())
    return makeError("cannot find the tidalc executable's own path");
  llvm::SmallString<256> Path(llvm::sys::path::parent_path(Exe));
  llvm::sys::path::append(Path, "..", "lib", runtimeSubdir(Target),
                          "libtidalrt.a");
  llvm::sys::path::remove_dots(Path, /*remove_dot_dot=*/true);
  if (!llvm::sys::fs::is_regular_file(Path))
    return makeError("the runtime for target " + Target + " is missing: '" +
                     Path + "' does not exist (build the tidalrt target)");
  return std::string(Path);
}

std::string tidal::deviceMathLibrary() {
  std::string Exe = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  if (Exe.empty())
    return "";
  llvm::SmallString<256> Path(llvm::sys::path::parent_path(Exe));
  llvm::sys::path::append(Path, "..", "lib", "nvptx", "libtidalrt.bc");
  llvm::sys::path::remove_dots(Path, /*remove_dot_dot=*/true);
  return std::string(Path);
}

llvm::Expected<std::vector<std::string>>
tidal::linkFlags(llvm::StringRef Target) {
  llvm::Expected<std::string> Archive = runtimeArchive(Target);
  if (!Archive)
    return Archive.takeError();
  std::vector<std::string> Flags{*Archive};
  // The runtime's math calls nothing from libc or libm (runtime/CMakeLists.txt):
  // no -lm. Its thread pool is pthreads; nvptx's host side loads the CUDA
  // driver with dlopen.
  Flags.push_back("-lpthread");
  if (Target == "nvptx")
    Flags.push_back("-ldl");
  return Flags;
}
