//===- PassRegistry.cpp - Pass names and the default pipeline -------------===//

#include "passes/PassRegistry.h"

using namespace tidal;

static const PassInfo Registry[] = {
#define TIDAL_PASS(Name, Function, Description) {Name, Description, Function},
#include "passes/Passes.def"
};

const PassInfo *tidal::lookupPass(llvm::StringRef Name) {
  for (const PassInfo &P : Registry)
    if (Name == P.Name)
      return &P;
  return nullptr;
}

std::vector<const PassInfo *> tidal::allPasses() {
  std::vector<const PassInfo *> All;
  for (const PassInfo &P : Registry)
    All.push_back(&P);
  return All;
}

std::vector<const PassInfo *> tidal::defaultPipeline() { return allPasses(); }
