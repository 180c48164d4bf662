//===- ParallelLoops.cpp - Which loops may run in parallel ----------------===//
//
// An abstract interpretation of index expressions over the candidate
// parallel loop variables: each i64 expression gets a Form, "the value
// minus sum(c_v * v) lies in [Lo, Hi]", where v are the candidate loop
// variables and the range holds over every iteration of every loop and
// every let. Additions and subtractions keep the coefficients, a
// multiplication by a constant scales them, and every other operation
// first collapses its operands to plain ranges (the coefficients folded in
// over the variables' ranges) and then applies interval arithmetic; loads,
// casts and anything that could overflow are unknown. This is sound: a
// collapsed form only loses precision. See ParallelLoops.h for the rule that
// is checked with these forms.
//
//===----------------------------------------------------------------------===//

#include "passes/loop/ParallelLoops.h"
#include <set>
#include "passes/loop/LoopUtils.h"
#include <algorithm>
#include <climits>
#include <map>

using namespace tidal;
using namespace tidal::loop;

namespace {

/// value - sum(Coef[v] * v) is in [Lo, Hi]; Known false means nothing is
/// known about the value.
struct Form {
  bool Known = false;
  std::map<std::string, int64_t> Coef; // no zero entries
  int64_t Lo = 0, Hi = 0;

  static Form range(int64_t Lo, int64_t Hi) {
    Form F;
    F.Known = true;
    F.Lo = Lo;
    F.Hi = Hi;
    return F;
  }
  bool isConst() const { return Known && Coef.empty() && Lo == Hi; }
};

bool addOv(int64_t A, int64_t B, int64_t &R) {
  return __builtin_add_overflow(A, B, &R);
}
bool mulOv(int64_t A, int64_t B, int64_t &R) {
  return __builtin_mul_overflow(A, B, &R);
}

/// The loop variables being tested, with their ranges.
using VarRanges = std::map<std::string, std::pair<int64_t, int64_t>>;

/// F with its coefficients folded into its range.
Form collapse(const Form &F, const VarRanges &Vars) {
  if (!F.Known || F.Coef.empty())
    return F;
  int64_t Lo = F.Lo, Hi = F.Hi;
  for (const auto &[Name, C] : F.Coef) {
    auto [VLo, VHi] = Vars.at(Name);
    int64_t A, B;
    if (mulOv(C, VLo, A) || mulOv(C, VHi, B) ||
        addOv(Lo, std::min(A, B), Lo) || addOv(Hi, std::max(A, B), Hi))
      return Form();
  }
  return Form::range(Lo, Hi);
}

/// F with the coefficients of the variables not in Keep folded into its
/// range (Ranges has every variable's range).
Form collapseExcept(const Form &F, const VarRanges &Keep,
                    const VarRanges &Ranges) {
  if (!F.Known)
    return F;
  Form Kept = Form::range(0, 0), Folded = F;
  Folded.Coef.clear();
  for (const auto &[Name, C] : F.Coef)
    (Keep.count(Name) ? Kept.Coef : Folded.Coef)[Name] = C;
  Folded = collapse(Folded, Ranges);
  if (!Folded.Known)
    return Folded;
  Kept.Lo = Folded.Lo;
  Kept.Hi = Folded.Hi;
  return Kept;
}

Form addForms(const Form &A, const Form &B, int64_t Sign) {
  if (!A.Known || !B.Known)
    return Form();
  Form R = A;
  for (const auto &[Name, C] : B.Coef) {
    int64_t Term, Sum;
    if (mulOv(Sign, C, Term) || addOv(R.Coef[Name], Term, Sum))
      return Form();
    if (Sum == 0)
      R.Coef.erase(Name);
    else
      R.Coef[Name] = Sum;
  }
  int64_t BLo = Sign > 0 ? B.Lo : -B.Hi, BHi = Sign > 0 ? B.Hi : -B.Lo;
  if (B.Lo == INT64_MIN || B.Hi == INT64_MIN || addOv(R.Lo, BLo, R.Lo) ||
      addOv(R.Hi, BHi, R.Hi))
    return Form();
  return R;
}

Form scale(const Form &A, int64_t K) {
  if (!A.Known)
    return A;
  Form R;
  R.Known = true;
  if (K == 0)
    return R;
  for (const auto &[Name, C] : A.Coef) {
    int64_t P;
    if (mulOv(C, K, P))
      return Form();
    R.Coef[Name] = P;
  }
  int64_t X, Y;
  if (mulOv(A.Lo, K, X) || mulOv(A.Hi, K, Y))
    return Form();
  R.Lo = std::min(X, Y);
  R.Hi = std::max(X, Y);
  return R;
}

/// Interval product of two plain ranges.
Form mulRanges(const Form &A, const Form &B) {
  int64_t P[4];
  if (mulOv(A.Lo, B.Lo, P[0]) || mulOv(A.Lo, B.Hi, P[1]) ||
      mulOv(A.Hi, B.Lo, P[2]) || mulOv(A.Hi, B.Hi, P[3]))
    return Form();
  return Form::range(*std::min_element(P, P + 4), *std::max_element(P, P + 4));
}

/// Truncating division of plain ranges by a positive divisor range; the
/// quotient is monotone in each operand there, so the corners bound it.
Form divRanges(const Form &A, const Form &B) {
  if (B.Lo <= 0)
    return Form();
  int64_t Q[4] = {A.Lo / B.Lo, A.Lo / B.Hi, A.Hi / B.Lo, A.Hi / B.Hi};
  return Form::range(*std::min_element(Q, Q + 4), *std::max_element(Q, Q + 4));
}

/// C remainder of plain ranges by a positive divisor range.
Form modRanges(const Form &A, const Form &B) {
  if (B.Lo <= 0)
    return Form();
  int64_t M = B.Hi - 1;
  if (A.Lo >= 0)
    return Form::range(0, std::min(A.Hi, M));
  if (A.Hi <= 0)
    return Form::range(std::max(A.Lo, -M), 0);
  return Form::range(-M, M);
}

/// The union of two forms with the same coefficients, else of their ranges.
Form unite(const Form &A, const Form &B, const VarRanges &Vars) {
  if (!A.Known || !B.Known)
    return Form();
  if (A.Coef == B.Coef) {
    Form R = A;
    R.Lo = std::min(A.Lo, B.Lo);
    R.Hi = std::max(A.Hi, B.Hi);
    return R;
  }
  Form X = collapse(A, Vars), Y = collapse(B, Vars);
  if (!X.Known || !Y.Known)
    return Form();
  return Form::range(std::min(X.Lo, Y.Lo), std::max(X.Hi, Y.Hi));
}

/// One access of a non-local buffer.
struct Access {
  std::string Buffer;
  Form Index;
  bool Store;
};

/// Walks the body of the candidate loops, recording every access.
class AccessCollector {
public:
  explicit AccessCollector(VarRanges Vars) : Vars(Vars), Ranges(Vars) {}
  void visit(const Stmt &S);
  std::vector<Access> Accesses;

private:
  Form form(const Expr &E);
  /// The form of a flat access; unknown for one indexed per dimension
  /// (callers test flattened statements, loop::flattenAccesses).
  Form flatForm(const std::vector<Expr> &Indices) {
    return Indices.size() == 1 ? form(Indices[0]) : Form();
  }
  Form formOfVar(const std::string &Name);
  Form binaryForm(const ExprNode &E);
  void loads(const Expr &E);
  bool isLocal(const std::string &Buffer) const;
  void visitFor(const StmtNode &S);

  VarRanges Vars;
  /// The tested variables and the inner loop variables kept symbolic (their
  /// coefficients stay in forms; names are unique in a kernel).
  VarRanges Ranges;

public:
  const VarRanges &ranges() const { return Ranges; }

private:
  /// Inner loop variables and lets, innermost last.
  std::vector<std::pair<std::string, Form>> Scope;
  /// Buffers allocated inside the nest, innermost last.
  std::vector<std::string> Locals;
};

Form AccessCollector::formOfVar(const std::string &Name) {
  for (auto It = Scope.rbegin(); It != Scope.rend(); ++It)
    if (It->first == Name)
      return It->second;
  if (Ranges.count(Name)) {
    Form F = Form::range(0, 0);
    F.Coef[Name] = 1;
    return F;
  }
  return Form();
}

Form AccessCollector::binaryForm(const ExprNode &E) {
  Form A = form(E.Operands[0]), B = form(E.Operands[1]);
  if (!A.Known || !B.Known)
    return Form();
  switch (E.Op) {
  case BinaryOp::Add:
    return addForms(A, B, 1);
  case BinaryOp::Sub:
    return addForms(A, B, -1);
  case BinaryOp::Mul:
    if (B.isConst())
      return scale(A, B.Lo);
    if (A.isConst())
      return scale(B, A.Lo);
    break;
  default:
    break;
  }
  A = collapse(A, Ranges);
  B = collapse(B, Ranges);
  if (!A.Known || !B.Known)
    return Form();
  switch (E.Op) {
  case BinaryOp::Mul:
    return mulRanges(A, B);
  case BinaryOp::Div:
    return divRanges(A, B);
  case BinaryOp::Mod:
    return modRanges(A, B);
  case BinaryOp::Min:
  case BinaryOp::Max: {
    // A symbol of its own over its range (as if a loop ran it), so that a
    // sum scaled by a row's stride keeps the stride: the start of a
    // shifted block, min(%o * F, E - F), times a row's elements.
    bool IsMin = E.Op == BinaryOp::Min;
    Form F = Form::range(0, 0);
    std::string Atom = std::string("\0min", 4) + std::to_string(Ranges.size());
    Ranges[Atom] = {IsMin ? std::min(A.Lo, B.Lo) : std::max(A.Lo, B.Lo),
                    IsMin ? std::min(A.Hi, B.Hi) : std::max(A.Hi, B.Hi)};
    F.Coef[Atom] = 1;
    return F;
  }
  default:
    return Form();
  }
}

Form AccessCollector::form(const Expr &E) {
  if (!E || E->Type != DataType(ScalarType::I64))
    return Form();
  switch (E->Kind) {
  case ExprKind::IntImm:
    return Form::range(E->IntValue, E->IntValue);
  case ExprKind::Var:
    return formOfVar(E->Name);
  case ExprKind::Binary:
    return binaryForm(*E);
  case ExprKind::Select:
    return unite(form(E->Operands[1]), form(E->Operands[2]), Ranges);
  default:
    return Form();
  }
}

bool AccessCollector::isLocal(const std::string &Buffer) const {
  return std::find(Locals.begin(), Locals.end(), Buffer) != Locals.end();
}

/// Records the loads in E.
void AccessCollector::loads(const Expr &E) {
  if (!E)
    return;
  if (E->Kind == ExprKind::Load && !isLocal(E->Name))
    Accesses.push_back({E->Name, flatForm(E->Operands), false});
  for (const Expr &Op : E->Operands)
    loads(Op);
}

void AccessCollector::visitFor(const StmtNode &S) {
  loads(S.Min);
  loads(S.Extent);
  // A loop that never runs (a split with no whole block) touches nothing.
  if (std::optional<int64_t> E = constInt(S.Extent); E && *E <= 0)
    return;
  Form Min = collapse(form(S.Min), Ranges), Ext = collapse(form(S.Extent), Ranges);
  // The variable stays a symbol with its range (the forms keep its
  // coefficient) when the range is known.
  Form Var;
  int64_t Last;
  if (Min.Known && Ext.Known && !addOv(Min.Hi, Ext.Hi - 1, Last)) {
    Ranges[S.Name] = {Min.Lo, std::max(Min.Lo, Last)};
    Var = Form::range(0, 0);
    Var.Coef[S.Name] = 1;
  }
  Scope.push_back({S.Name, Var});
  visit(S.Body);
  Scope.pop_back();
}

void AccessCollector::visit(const Stmt &S) {
  if (!S)
    return;
  switch (S->Kind) {
  case StmtKind::For:
    return visitFor(*S);
  case StmtKind::Store:
    for (const Expr &I : S->Indices)
      loads(I);
    loads(S->Value);
    if (!isLocal(S->Name))
      Accesses.push_back({S->Name, flatForm(S->Indices), true});
    return;
  case StmtKind::Prefetch: // neither reads nor writes an element
    for (const Expr &I : S->Indices)
      loads(I);
    return;
  case StmtKind::Let:
    loads(S->Value);
    Scope.push_back({S->Name, form(S->Value)});
    visit(S->Body);
    Scope.pop_back();
    return;
  case StmtKind::Allocate:
    Locals.push_back(S->Name);
    visit(S->Body);
    Locals.pop_back();
    return;
  case StmtKind::If:
    loads(S->Cond);
    visit(S->Body);
    visit(S->Else);
    return;
  case StmtKind::Seq:
    for (const Stmt &X : S->Stmts)
      visit(X);
    return;
  }
}

/// The rule of ParallelLoops.h on Forms whose only coefficients are those
/// of the tested variables Vars.
bool disjointStrips(const std::vector<Form> &Forms, const VarRanges &Vars) {
  const Form &First = Forms.front();
  if (!First.Known)
    return false;
  int64_t Lo = First.Lo, Hi = First.Hi;
  for (const Form &F : Forms) {
    if (!F.Known || F.Coef != First.Coef)
      return false;
    Lo = std::min(Lo, F.Lo);
    Hi = std::max(Hi, F.Hi);
  }
  // (|c|, extent - 1) of the loops with more than one iteration.
  std::vector<std::pair<int64_t, int64_t>> Terms;
  for (const auto &[Name, Range] : Vars) {
    if (Range.first == Range.second)
      continue;
    auto It = First.Coef.find(Name);
    if (It == First.Coef.end() || It->second == INT64_MIN)
      return false;
    Terms.push_back({std::abs(It->second), Range.second - Range.first});
  }
  std::sort(Terms.begin(), Terms.end());
  int64_t Reach;
  if (__builtin_sub_overflow(Hi, Lo, &Reach))
    return false;
  for (const auto &[C, Steps] : Terms) {
    int64_t Span;
    if (C <= Reach || mulOv(C, Steps, Span) || addOv(Reach, Span, Reach))
      return false;
  }
  return true;
}

/// The rule for a block of a row-major matrix, for one tested variable V of
/// coefficient C > 0 over E values (the columns [C*V, C*V + C) of every row)
/// and a row length H >= C * E: every access must be a multiple of H (the
/// terms whose coefficients are multiples of H, and the constant's multiple
/// of H) plus C * V plus a rest that lies in one window [W, W + C) shared by
/// all accesses. Then index - W - C * V0 = q * H + (C * (V - V0) + rest - W)
/// with the second part in [0, H): a different V gives a different index.
bool disjointRows(const std::vector<const Access *> &Accesses,
                  const std::string &V, int64_t C, int64_t H,
                  const VarRanges &Ranges) {
  int64_t WLo = INT64_MAX, WHi = INT64_MIN;
  for (const Access *A : Accesses) {
    const Form &F = A->Index;
    Form Rest = Form::range(0, 0);
    for (const auto &[Name, K] : F.Coef)
      if (Name != V && K % H != 0)
        Rest.Coef[Name] = K;
    int64_t R = F.Lo % H, Lo, Hi, Span;
    if (R < 0)
      R += H;
    Rest = collapse(Rest, Ranges);
    if (!Rest.Known || __builtin_sub_overflow(F.Hi, F.Lo, &Span) ||
        addOv(Span, R, Span) || addOv(Rest.Lo, R, Lo) ||
        addOv(Rest.Hi, Span, Hi))
      return false;
    WLo = std::min(WLo, Lo);
    WHi = std::max(WHi, Hi);
  }
  return WHi - WLo < C;
}

/// disjointRows for the one tested variable of Vars, with each row length
/// the accesses suggest.
bool disjointBlocks(const std::vector<const Access *> &Accesses,
                    const VarRanges &Vars, const VarRanges &Ranges) {
  if (Vars.size() != 1)
    return false;
  const auto &[V, Range] = *Vars.begin();
  int64_t C = 0, Span;
  for (const Access *A : Accesses) {
    auto It = A->Index.Coef.find(V);
    if (!A->Index.Known || It == A->Index.Coef.end() || It->second <= 0 ||
        (C && It->second != C))
      return false;
    C = It->second;
  }
  if (mulOv(C, Range.second - Range.first + 1, Span))
    return false;
  // Row lengths to try: the block's span, and every coefficient and
  // constant offset at least that long (an unrolled row r of a tile has the
  // offset r * H).
  std::set<int64_t> Rows = {Span};
  auto Candidate = [&](int64_t K) {
    if (K != INT64_MIN && std::abs(K) >= Span)
      Rows.insert(std::abs(K));
  };
  for (const Access *A : Accesses) {
    for (const auto &[Name, K] : A->Index.Coef)
      Candidate(K);
    Candidate(A->Index.Lo);
  }
  for (int64_t H : Rows)
    if (disjointRows(Accesses, V, C, H, Ranges))
      return true;
  return false;
}

/// Whether the accesses of one stored buffer are disjoint between
/// iterations (the rules of ParallelLoops.h).
bool disjoint(const std::vector<const Access *> &Accesses,
              const VarRanges &Vars, const VarRanges &Ranges) {
  std::vector<Form> Strips;
  for (const Access *A : Accesses)
    Strips.push_back(collapseExcept(A->Index, Vars, Ranges));
  return disjointStrips(Strips, Vars) ||
         disjointBlocks(Accesses, Vars, Ranges);
}

bool prefixIsParallel(const std::vector<const StmtNode *> &Nest, unsigned K) {
  VarRanges Vars;
  for (unsigned I = 0; I < K; ++I) {
    int64_t Min = *constInt(Nest[I]->Min), Ext = *constInt(Nest[I]->Extent);
    Vars[Nest[I]->Name] = {Min, Min + Ext - 1};
  }
  AccessCollector C(Vars);
  C.visit(Nest[K - 1]->Body);
  std::map<std::string, std::vector<const Access *>> ByBuffer;
  for (const Access &A : C.Accesses)
    ByBuffer[A.Buffer].push_back(&A);
  for (const auto &[Buffer, List] : ByBuffer) {
    bool Stored = std::any_of(List.begin(), List.end(),
                              [](const Access *A) { return A->Store; });
    if (Stored && !disjoint(List, Vars, C.ranges()))
      return false;
  }
  return true;
}

/// The loops among Loops that the form F (of some access) reads.
std::set<std::string> loopsRead(const Form &F, const VarRanges &Loops) {
  std::set<std::string> Read;
  for (const auto &[Name, C] : F.Coef)
    if (Loops.count(Name))
      Read.insert(Name);
  return Read;
}

/// Names, keeping only those not in Drop, in order.
std::vector<std::string> without(const std::vector<std::string> &Names,
                                 const std::set<std::string> &Drop) {
  std::vector<std::string> Kept;
  for (const std::string &N : Names)
    if (!Drop.count(N))
      Kept.push_back(N);
  return Kept;
}

/// Whether two bindings may share bytes.
bool mayOverlap(const BufferBinding &A, int64_t ABytes, const BufferBinding &B,
                int64_t BBytes) {
  if (A.Storage != B.Storage)
    return false;
  if (A.Index != B.Index)
    return false; // Index is 0 for the weights and the workspace
  return A.Offset < B.Offset + BBytes && B.Offset < A.Offset + ABytes;
}

} // namespace

bool loop::writtenParamMayAlias(const Program &P, const Kernel &K) {
  for (const KernelCall &C : P.Calls) {
    if (C.Kernel != K.Name || C.Args.size() != K.Params.size())
      continue;
    for (size_t I = 0; I < C.Args.size(); ++I)
      for (size_t J = 0; J < I; ++J)
        if ((!K.Params[I].ReadOnly || !K.Params[J].ReadOnly) &&
            mayOverlap(C.Args[I], K.Params[I].sizeInBytes(), C.Args[J],
                       K.Params[J].sizeInBytes()))
          return true;
  }
  return false;
}

std::vector<const StmtNode *> loop::constantPerfectNest(const Stmt &S) {
  std::vector<const StmtNode *> Nest;
  int64_t Total = 1;
  for (const StmtNode *L = S.get(); L && L->Kind == StmtKind::For;
       L = L->Body.get()) {
    std::optional<int64_t> Min = constInt(L->Min), Ext = constInt(L->Extent);
    int64_t Last;
    if (!Min || !Ext || *Ext < 1 || mulOv(Total, *Ext, Total) ||
        Total > INT32_MAX || addOv(*Min, *Ext - 1, Last))
      break;
    Nest.push_back(L);
  }
  return Nest;
}

unsigned loop::parallelPrefix(const std::vector<const StmtNode *> &Nest) {
  for (unsigned K = Nest.size(); K > 0; --K)
    if (prefixIsParallel(Nest, K))
      return K;
  return 0;
}

bool loop::reorderKeepsDependences(
    const std::vector<const StmtNode *> &Enclosing, const Stmt &Nest,
    const std::vector<std::string> &Old, const std::vector<std::string> &New) {
  // The enclosing loops and the nest's own are the candidates to test; the
  // collector gives the nest's loops (and those inside) their ranges.
  VarRanges Seed;
  for (const StmtNode *L : Enclosing) {
    std::optional<int64_t> Min = constInt(L->Min), Ext = constInt(L->Extent);
    int64_t Last;
    if (Min && Ext && *Ext >= 1 && !addOv(*Min, *Ext - 1, Last))
      Seed[L->Name] = {*Min, Last};
  }
  AccessCollector C(Seed);
  C.visit(Nest);
  VarRanges Loops;
  for (const auto &[Name, Range] : C.ranges())
    if (Seed.count(Name) ||
        std::find(Old.begin(), Old.end(), Name) != Old.end())
      Loops[Name] = Range;
  // A loop of one iteration carries no dependence, wherever it goes.
  std::set<std::string> Single;
  std::function<void(const Stmt &)> FindSingle = [&](const Stmt &S) {
    if (!S)
      return;
    if (S->Kind == StmtKind::For && constInt(S->Extent) == 1)
      Single.insert(S->Name);
    FindSingle(S->Body);
    FindSingle(S->Else);
    for (const Stmt &X : S->Stmts)
      FindSingle(X);
  };
  FindSingle(Nest);
  std::map<std::string, std::vector<const Access *>> ByBuffer;
  for (const Access &A : C.Accesses)
    ByBuffer[A.Buffer].push_back(&A);
  for (const auto &[Buffer, List] : ByBuffer) {
    if (std::none_of(List.begin(), List.end(),
                     [](const Access *A) { return A->Store; }))
      continue;
    std::set<std::string> Read;
    for (const Access *A : List) {
      if (!A->Index.Known)
        return false;
      std::set<std::string> R = loopsRead(A->Index, Loops);
      Read.insert(R.begin(), R.end());
    }
    // Distinct values of the loops the buffer is indexed by touch distinct
    // elements, so only the loops it is not indexed by (its reductions)
    // carry dependences, and those must keep their order.
    VarRanges Tested;
    for (const std::string &N : Read)
      Tested[N] = Loops.at(N);
    Read.insert(Single.begin(), Single.end());
    if (!disjoint(List, Tested, C.ranges()) ||
        without(Old, Read) != without(New, Read))
      return false;
  }
  return true;
}
