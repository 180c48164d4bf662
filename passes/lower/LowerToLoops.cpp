//===- LowerToLoops.cpp - The lower-to-loops pass -------------------------===//
//
// Turns the graph into a Program: one Kernel per fused group, the calls in
// execution order, and where every kernel argument lives.
//
// Groups come from the int64 `fusion_group` attribute (FusionGroupAttr) that
// fuse-elementwise sets: the members of a group, in graph order, are its
// anchor and then its elementwise epilogue; a node without the attribute is
// a group alone. A group's kernel is called where its last member stands in the
// graph, when every value it reads exists. The pass does not trust the grouping
// blindly: a group is cut into chains wherever an epilogue node does not
// consume the previous member's result, has another shape than the anchor,
// or where an intermediate result is needed outside the group (another user
// or a graph output), because the kernel stores only its final result.
//
// A Reshape (Flatten, Squeeze, Unsqueeze and Identity are Reshapes after
// import) gives no kernel either unless its result is a graph output: its
// result is bound to its operand's storage, since row-major data does not
// move when only the shape changes. Values are written once, by their
// producer, so the two never disagree.
//
// A Concat gives no kernel either when its operands can be written in
// place: when every axis before the concat axis has extent 1, each operand
// is one contiguous run of the result's bytes, so an operand that a kernel
// of this program produces (not a graph input, constant, graph output or
// view, and not bound into another Concat already) is stored straight into
// its slice (a temporary binding with a byte offset, docs/loop-ir.md) and
// nothing is copied. The result must be a temporary (not a graph output);
// if any operand does not qualify, the Concat is a copy kernel as before.
//
// Constant nodes give no kernel: the constants that kernels read are laid out
// in the weights section in graph order, each 64-byte aligned, followed by
// the constants the lowerings made (KernelBuilder::derivedConstant: weights
// packed in the layout their kernel reads), in kernel order. Graph inputs
// and outputs are bound to the user's buffers, every other value to its own
// temporary (plan-memory packs them later), and so is every scratch buffer a
// lowering asks for (KernelBuilder::scratch). A graph output that is a graph
// input, a constant, or a repeat of an earlier output is written by a copy
// kernel at the end. Nothing is written for a tensor without elements.
//
// Every group is lowered even after one fails, so that the user sees every
// unsupported node at once.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "passes/PassRegistry.h"
#include "passes/lower/Lowering.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include <cassert>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <vector>

using namespace tidal;
using namespace tidal::lower;

llvm::Expected<Stmt> lower::lowerConstant(const Node &N, KernelBuilder &) {
  llvm_unreachable("constants are weights, never lowered to a kernel");
}

namespace {

using Chain = std::vector<const Node *>;

/// What the grouping needs to know about the whole graph.
struct GraphFacts {
  std::map<const Node *, size_t> Position;
  std::map<const Value *, std::vector<const Node *>> Users;
  std::set<const Value *> Outputs;
};

GraphFacts collectFacts(const Graph &G) {
  GraphFacts F;
  for (const auto &N : G.Nodes) {
    F.Position[N.get()] = F.Position.size();
    for (const Value *Op : N->Operands) {
      auto &U = F.Users[Op];
      if (U.empty() || U.back() != N.get())
        U.push_back(N.get());
    }
  }
  F.Outputs.insert(G.Outputs.begin(), G.Outputs.end());
  return F;
}

/// Whether N may follow the chain C as one more epilogue node.
bool canExtend(const Chain &C, const Node *N, const GraphFacts &F) {
  const Node *Prev = C.back();
  if (!isElementwise(N->Kind) || N->Results.size() != 1 ||
      Prev->Results.size() != 1 || C.front()->Kind == OpKind::Constant)
    return false;
  const Value *PrevResult = Prev->result();
  if (!llvm::is_contained(N->Operands, PrevResult) ||
      N->result()->Type.Shape != C.front()->result()->Type.Shape)
    return false;
  // The intermediate result is never stored: only N may read it.
  auto U = F.Users.find(PrevResult);
  return !F.Outputs.count(PrevResult) && U != F.Users.end() &&
         U->second.size() == 1 && U->second.front() == N;
}

/// The chains to lower, in execution order (by their last member).
std::vector<Chain> formChains(const Graph &G, const GraphFacts &F) {
  std::map<int64_t, std::vector<const Node *>> Groups;
  std::vector<std::vector<const Node *>> Raw;
  for (const auto &N : G.Nodes) {
    auto It = N->Attrs.find(FusionGroupAttr);
    if (N->Kind != OpKind::Constant && It != N->Attrs.end() &&
        std::holds_alternative<int64_t>(It->second))
      Groups[std::get<int64_t>(It->second)].push_back(N.get());
    else
      Raw.push_back({N.get()});
  }
  for (auto &[Id, Members] : Groups)
    Raw.push_back(Members);

  std::vector<Chain> Chains;
  for (const auto &Members : Raw) {
    Chain Cur{Members.front()};
    for (size_t I = 1; I < Members.size(); ++I) {
      if (canExtend(Cur, Members[I], F)) {
        Cur.push_back(Members[I]);
        continue;
      }
      Chains.push_back(Cur);
      Cur = {Members[I]};
    }
    Chains.push_back(Cur);
  }
  llvm::stable_sort(Chains, [&](const Chain &A, const Chain &B) {
    return F.Position.at(A.back()) < F.Position.at(B.back());
  });
  return Chains;
}

/// Where a value lives inside another's storage: Bytes into the value Of.
struct Slice {
  const Value *Of;
  int64_t Bytes;
};

/// The slices of a Concat alone in chain C when all its operands can be
/// written in place (file comment): Produced holds the values stored in
/// their own temporaries, Sliced those already placed in another's.
std::optional<std::vector<Slice>>
concatSlices(const Chain &C, const GraphFacts &F,
             const std::set<const Value *> &Produced,
             const std::map<const Value *, Slice> &Sliced) {
  const Node *N = C.front();
  if (C.size() != 1 || N->Kind != OpKind::Concat)
    return std::nullopt;
  const Value *R = N->result();
  int64_t Axis = N->getInt("axis");
  if (F.Outputs.count(R) || R->Type.Elem == ElemType::Bit || Axis < 0 ||
      Axis >= static_cast<int64_t>(R->Type.rank()))
    return std::nullopt;
  for (int64_t D = 0; D < Axis; ++D)
    if (R->Type.Shape[D] != 1)
      return std::nullopt;
  std::vector<Slice> Slices;
  std::set<const Value *> Seen;
  int64_t Bytes = 0;
  for (const Value *Op : N->Operands) {
    if (!Produced.count(Op) || F.Outputs.count(Op) || Sliced.count(Op) ||
        !Seen.insert(Op).second || Op->Type.Elem != R->Type.Elem)
      return std::nullopt;
    Slices.push_back({R, Bytes});
    Bytes += Op->Type.sizeInBytes();
  }
  return Slices;
}

/// Whether chain C is a Reshape alone whose result can be its operand's
/// storage seen with another shape (row-major data does not move when the
/// shape changes): not a graph output (the user's buffer, which a kernel
/// must write) and not packed bits (which the lowering rejects).
bool isView(const Chain &C, const GraphFacts &F) {
  const Node *N = C.front();
  return C.size() == 1 && N->Kind == OpKind::Reshape &&
         !F.Outputs.count(N->result()) &&
         N->Operands[0]->Type.Elem == N->result()->Type.Elem &&
         N->result()->Type.Elem != ElemType::Bit;
}

std::string sanitize(llvm::StringRef S) {
  std::string R;
  for (char C : S)
    R += (std::isalnum(static_cast<unsigned char>(C)) || C == '_') ? C : '_';
  return R;
}

/// Rejects what no lowering can represent: packed bits.
llvm::Error checkStorable(const Node &N) {
  auto IsBit = [](const Value *V) { return V->Type.Elem == ElemType::Bit; };
  if (llvm::any_of(N.Operands, IsBit) ||
      llvm::any_of(N.Results, [&](const auto &R) { return IsBit(R.get()); }))
    return nodeError(N,
                     "packed 1-bit tensors are not supported by the lowering");
  return llvm::Error::success();
}

/// Checks an epilogue node's formula on placeholder operands, so that
/// KernelBuilder::storeResult() cannot fail later.
llvm::Error checkEpilogueNode(const Node &N) {
  if (llvm::Error E = checkStorable(N))
    return E;
  std::vector<Expr> Placeholders;
  for (const Value *V : N.Operands)
    Placeholders.push_back(var("x", DataType(scalarTypeOf(V->Type.Elem))));
  auto E = elementwiseExpr(N, Placeholders);
  return E ? llvm::Error::success() : E.takeError();
}

/// A lowered kernel and the graph values behind its parameters.
struct LoweredKernel {
  Kernel K;
  std::vector<const Value *> ParamValues;
  /// The constants the lowering made (KernelBuilder::derivedConstant).
  std::vector<std::unique_ptr<Node>> Derived;
};

/// The family of the kernel anchored at N: what default schedules choose
/// by (Kernel::Family).
std::string kernelFamily(const Node &N) {
  switch (N.Kind) {
  case OpKind::Conv: {
    size_t Spatial = N.Operands[0]->Type.rank() - 2;
    int64_t Groups = N.getInt("group", 1);
    if (Groups == 1)
      return "conv" + std::to_string(Spatial) + "d";
    bool Depthwise = Groups == N.Operands[0]->Type.Shape[1] &&
                     Groups == N.result()->Type.Shape[1];
    return Depthwise ? "depthwise" : "grouped_conv";
  }
  case OpKind::ConvTranspose:
    return "conv_transpose";
  case OpKind::Gemm:
  case OpKind::MatMul:
    return "gemm";
  case OpKind::MaxPool:
  case OpKind::AveragePool:
  case OpKind::GlobalAveragePool:
  case OpKind::GlobalMaxPool:
    return "pool";
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
    return "softmax";
  case OpKind::LRN:
    return "lrn";
  case OpKind::CumSum:
  case OpKind::CumProd:
    return "scan";
  case OpKind::BatchNormalization:
  case OpKind::Standardize:
    return "norm";
  default:
    break;
  }
  switch (opCategory(N.Kind)) {
  case OpCategory::Unary:
  case OpCategory::Binary:
  case OpCategory::Ternary:
    return "elementwise";
  case OpCategory::Injective:
    return "injective";
  case OpCategory::Reduction:
    return "reduce";
  case OpCategory::Source:
    return "constant";
  default:
    return "opaque";
  }
}

/// Multiply-accumulates of N as ONNX defines it: each output element of a
/// convolution or matrix product is a sum of products (for a transposed
/// convolution, each input element is scattered through the kernel).
int64_t countMACs(const Node &N) {
  auto TapsPerChannel = [](const TensorType &W) {
    int64_t Taps = 1;
    for (size_t I = 1; I < W.Shape.size(); ++I)
      Taps *= W.Shape[I];
    return Taps;
  };
  const TensorType &Out = N.result()->Type;
  switch (N.Kind) {
  case OpKind::Conv: // W: M x C/group x k...
    return Out.numElements() * TapsPerChannel(N.Operands[1]->Type);
  case OpKind::ConvTranspose: // W: C x M/group x k...
    return N.Operands[0]->Type.numElements() *
           TapsPerChannel(N.Operands[1]->Type);
  case OpKind::Gemm: {
    const TensorType &A = N.Operands[0]->Type;
    return Out.numElements() * A.Shape[N.getInt("transA", 0) ? 0 : 1];
  }
  case OpKind::MatMul: {
    const TensorType &A = N.Operands[0]->Type;
    return A.rank() == 0 ? 0 : Out.numElements() * A.Shape.back();
  }
  default:
    return 0;
  }
}

/// What `tidalc info` shows of the kernel lowered from C.
KernelReport reportChain(const Chain &C) {
  KernelReport R;
  for (const Node *N : C) {
    const char *Sep = N == C.front() ? "" : "+";
    R.Ops += Sep + opName(N->Kind).str();
    R.Nodes += (N == C.front() ? "" : ",") + N->Name;
  }
  for (const Value *V : C.front()->Operands)
    if (V && !V->constantData())
      R.Operands.push_back(V->Type);
  R.Result = C.back()->result()->Type;
  R.MACs = countMACs(*C.front());
  return R;
}

llvm::Expected<LoweredKernel> lowerChain(const Chain &C, size_t Index,
                                         const PassOptions &Opts) {
  const Node &Anchor = *C.front();
  assert(Anchor.Results.size() == 1 && "lowering handles one result");
  ErrorCollector Errors;
  for (const Node *N : C)
    Errors.add(N == &Anchor ? checkStorable(*N) : checkEpilogueNode(*N));
  if (!Errors.empty())
    return Errors.take();
  std::string Hint =
      Anchor.Name.empty() ? opName(Anchor.Kind).lower() : sanitize(Anchor.Name);
  KernelBuilder B("k" + std::to_string(Index) + "_" + Hint, Anchor,
                  Chain(C.begin() + 1, C.end()), Opts);
  auto Body = lowerNode(Anchor, B);
  if (!Body)
    return Body.takeError();
  Kernel K = B.finish(*Body);
  K.Family = kernelFamily(Anchor);
  return LoweredKernel{std::move(K), B.paramValues(), B.takeDerived()};
}

/// Assigns every kernel argument its storage.
class Binder {
public:
  Binder(const Graph &G, Program &P) : G(G), P(P) {
    for (size_t I = 0; I < G.Inputs.size(); ++I)
      Inputs[G.Inputs[I].get()] = I;
    for (size_t I = G.Outputs.size(); I-- > 0;)
      Outputs[G.Outputs[I]] = I;
  }

  /// Values stored inside another's temporary (Concat operands).
  std::map<const Value *, Slice> Slices;

  /// Binds V to the K-th output regardless of what it is (copy results).
  void bindOutput(const Value *V, size_t K) { Outputs[V] = K; }

  /// Lays out the constants that the kernels read: the graph's in graph
  /// order, then those the lowerings made, in kernel order.
  void layOutWeights(const std::vector<LoweredKernel> &Kernels) {
    std::set<const Value *> Used;
    for (const LoweredKernel &L : Kernels)
      for (const Value *V : L.ParamValues)
        if (V && V->constantData())
          Used.insert(V);
    std::vector<const Value *> Order;
    for (const auto &N : G.Nodes)
      if (N->Kind == OpKind::Constant && Used.count(N->result()))
        Order.push_back(N->result());
    for (const LoweredKernel &L : Kernels)
      for (const auto &N : L.Derived)
        Order.push_back(N->result());
    // Sized once: grown constant by constant, resnet50's 160 MB of weights
    // were copied and page-faulted again at every doubling.
    size_t Bytes = P.Weights.size();
    for (const Value *V : Order)
      Bytes = (Bytes + 63) / 64 * 64 + V->constantData()->Bytes.size();
    P.Weights.reserve(Bytes);
    for (const Value *V : Order)
      layOut(V);
  }

  /// A new temporary for a kernel's scratch parameter D.
  BufferBinding bindScratch(const BufferDecl &D) {
    P.TempSizes.push_back(D.sizeInBytes());
    return {StorageKind::Temp, static_cast<int64_t>(P.TempSizes.size() - 1), 0};
  }

  BufferBinding bind(const Value *V) {
    if (auto It = Slices.find(V); It != Slices.end()) {
      BufferBinding Of = bind(It->second.Of);
      assert(Of.Storage == StorageKind::Temp && "a slice of a non-temporary");
      Of.Offset += It->second.Bytes;
      return Of;
    }
    if (auto It = Inputs.find(V); It != Inputs.end())
      return {StorageKind::Input, static_cast<int64_t>(It->second), 0};
    if (auto It = WeightOffsets.find(V); It != WeightOffsets.end())
      return {StorageKind::Weights, 0, It->second};
    if (auto It = Outputs.find(V); It != Outputs.end())
      return {StorageKind::Output, static_cast<int64_t>(It->second), 0};
    auto [It, New] = Temps.try_emplace(V, P.TempSizes.size());
    if (New)
      P.TempSizes.push_back(V->Type.sizeInBytes());
    return {StorageKind::Temp, static_cast<int64_t>(It->second), 0};
  }

private:
  /// Appends constant V to the weights, 64-byte aligned.
  void layOut(const Value *V) {
    const Tensor &T = *V->constantData();
    P.Weights.resize((P.Weights.size() + 63) / 64 * 64, 0);
    WeightOffsets[V] = P.Weights.size();
    P.Weights.insert(P.Weights.end(), T.Bytes.begin(), T.Bytes.end());
  }

  const Graph &G;
  Program &P;
  std::map<const Value *, size_t> Inputs, Outputs, Temps;
  std::map<const Value *, int64_t> WeightOffsets;
};

/// A Copy node outside the graph that writes graph output Index.
struct OutputCopy {
  size_t Index;
  std::unique_ptr<Node> N;
};

/// The outputs that no kernel of the graph writes: graph inputs, constants
/// and repeated outputs. Each gets a Copy node outside the graph.
std::vector<OutputCopy> outputCopies(const Graph &G) {
  std::vector<OutputCopy> Copies;
  std::set<const Value *> Seen;
  for (size_t K = 0; K < G.Outputs.size(); ++K) {
    const Value *V = G.Outputs[K];
    bool Repeated = !Seen.insert(V).second;
    if ((!Repeated && !V->isGraphInput() && !V->constantData()) ||
        V->Type.numElements() == 0)
      continue;
    auto N = std::make_unique<Node>(OpKind::Copy, "copy_" + V->Name);
    N->Operands = {const_cast<Value *>(V)};
    N->Results.push_back(
        std::make_unique<Value>(V->Name + "_out", V->Type, N.get(), 0));
    Copies.push_back({K, std::move(N)});
  }
  return Copies;
}

} // namespace

llvm::Error tidal::lowerToLoops(Module &M, const PassOptions &Opts) {
  if (!M.G)
    return makeError("lower-to-loops: no graph to lower");
  const Graph &G = *M.G;
  GraphFacts Facts = collectFacts(G);
  std::vector<Chain> Chains = formChains(G, Facts);
  std::vector<OutputCopy> Copies = outputCopies(G);
  for (const OutputCopy &Copy : Copies)
    Chains.push_back({Copy.N.get()});

  ErrorCollector Errors;
  std::vector<LoweredKernel> Kernels;
  // A view's result -> the value whose storage it is.
  std::map<const Value *, const Value *> Views;
  // Values in storage of their own (kernel results, Concats written in
  // place), and values stored in a slice of another's.
  std::set<const Value *> Produced;
  std::map<const Value *, Slice> Sliced;
  for (const Chain &C : Chains) {
    // Constants are weights; a group with an empty result writes nothing.
    if (C.front()->Kind == OpKind::Constant ||
        C.back()->result()->Type.numElements() == 0)
      continue;
    if (isView(C, Facts)) {
      const Value *Of = C.front()->Operands[0];
      auto It = Views.find(Of);
      Views[C.front()->result()] = It == Views.end() ? Of : It->second;
      continue;
    }
    if (auto Slices = concatSlices(C, Facts, Produced, Sliced)) {
      for (size_t I = 0; I < Slices->size(); ++I)
        Sliced[C.front()->Operands[I]] = (*Slices)[I];
      Produced.insert(C.front()->result());
      continue;
    }
    auto L = lowerChain(C, Kernels.size(), Opts);
    if (!L) {
      Errors.add(L.takeError());
      continue;
    }
    Produced.insert(C.back()->result());
    M.Report.Kernels[L->K.Name] = reportChain(C);
    Kernels.push_back(std::move(*L));
  }
  if (!Errors.empty())
    return Errors.take();
  for (LoweredKernel &L : Kernels)
    for (const Value *&V : L.ParamValues)
      if (auto It = Views.find(V); It != Views.end())
        V = It->second;

  auto P = std::make_unique<Program>();
  for (const auto &In : G.Inputs)
    P->Inputs.push_back({In->Name, In->Type});
  for (const Value *Out : G.Outputs)
    P->Outputs.push_back({Out->Name, Out->Type});

  Binder Bind(G, *P);
  Bind.Slices = std::move(Sliced);
  for (const OutputCopy &Copy : Copies)
    Bind.bindOutput(Copy.N->result(), Copy.Index);
  Bind.layOutWeights(Kernels);
  for (LoweredKernel &L : Kernels) {
    KernelCall Call;
    Call.Kernel = L.K.Name;
    for (size_t I = 0; I < L.ParamValues.size(); ++I)
      Call.Args.push_back(L.ParamValues[I] ? Bind.bind(L.ParamValues[I])
                                           : Bind.bindScratch(L.K.Params[I]));
    P->Calls.push_back(std::move(Call));
    P->Kernels.push_back(std::move(L.K));
  }
  M.P = std::move(P);
  return llvm::Error::success();
}
