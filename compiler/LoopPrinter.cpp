//===- LoopPrinter.cpp - Loop IR to text ----------------------------------===//
//
// Prints a Program, Kernel, Stmt or Expr in the text form that
// LoopParser.cpp reads back; docs/loop-ir.md is the grammar. The printer
// is the format's definition of canonical: parse(print(P)) prints the same
// bytes as P. Floats print in the shortest form that reads back to the
// same double; names that are not plain identifiers are quoted.
//
//===----------------------------------------------------------------------===//

#include "compiler/Loop.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace tidal;

namespace {

/// True if C may appear in an unquoted %name or @name.
bool isNameChar(char C) {
  return llvm::isAlnum(C) || C == '_' || C == '.';
}

/// Prints a string literal: printable ASCII as is, `"` `\` and anything else
/// as a backslash and two hex digits.
void printQuoted(llvm::StringRef S, llvm::raw_ostream &OS) {
  OS << '"';
  for (unsigned char C : S) {
    if (C >= 0x20 && C < 0x7f && C != '"' && C != '\\')
      OS << C;
    else
      OS << '\\' << llvm::hexdigit(C >> 4, false) << llvm::hexdigit(C & 15, false);
  }
  OS << '"';
}

/// Prints Sigil followed by Name, quoting the name unless it is plain.
void printName(char Sigil, llvm::StringRef Name, llvm::raw_ostream &OS) {
  OS << Sigil;
  if (!Name.empty() && llvm::all_of(Name, isNameChar))
    OS << Name;
  else
    printQuoted(Name, OS);
}

/// The shortest decimal form of V that reads back to exactly V, always with
/// a `.`, an exponent, or the words inf / nan so it never looks like an int.
std::string formatDouble(double V) {
  if (std::isnan(V))
    return std::signbit(V) ? "-nan" : "nan";
  if (std::isinf(V))
    return V < 0 ? "-inf" : "inf";
  char Buf[64];
  for (int Prec = 1; Prec <= 17; ++Prec) {
    std::snprintf(Buf, sizeof(Buf), "%.*g", Prec, V);
    if (std::strtod(Buf, nullptr) == V)
      break;
  }
  std::string S = Buf;
  if (S.find_first_of(".e") == std::string::npos)
    S += ".0";
  return S;
}

/// Prints the `:type` suffix, omitted for scalar i64 (the default).
void printTypeSuffix(DataType T, llvm::raw_ostream &OS) {
  if (T != DataType(ScalarType::I64))
    OS << ':' << T.str();
}

void printIndent(unsigned Indent, llvm::raw_ostream &OS) {
  OS.indent(Indent);
}

/// Infix spelling of the arithmetic operators, or null for the others,
/// which print as `name(a, b)`.
const char *infixSpelling(BinaryOp Op) {
  switch (Op) {
  case BinaryOp::Add: return "+";
  case BinaryOp::Sub: return "-";
  case BinaryOp::Mul: return "*";
  case BinaryOp::Div: return "/";
  case BinaryOp::Mod: return "%";
  default: return nullptr;
  }
}

/// `[i]`, or `[i, j, ...]` for one index per dimension.
void printIndices(const std::vector<Expr> &Indices, llvm::raw_ostream &OS) {
  OS << '[';
  for (size_t I = 0; I < Indices.size(); ++I) {
    if (I)
      OS << ", ";
    printExpr(Indices[I], OS);
  }
  OS << ']';
}

void printOperands(const ExprNode &E, llvm::raw_ostream &OS) {
  OS << '(';
  for (size_t I = 0; I < E.Operands.size(); ++I) {
    if (I)
      OS << ", ";
    printExpr(E.Operands[I], OS);
  }
  OS << ')';
}

void printBinary(const ExprNode &E, llvm::raw_ostream &OS) {
  if (const char *Infix = infixSpelling(E.Op)) {
    OS << '(';
    printExpr(E.Operands[0], OS);
    OS << ' ' << Infix << ' ';
    printExpr(E.Operands[1], OS);
    OS << ')';
    return;
  }
  OS << binaryOpName(E.Op);
  printOperands(E, OS);
}

void printBlock(const Stmt &Body, llvm::raw_ostream &OS, unsigned Indent) {
  OS << "{\n";
  if (Body)
    printStmt(Body, OS, Indent + 2);
  printIndent(Indent, OS);
  OS << '}';
}

void printFor(const StmtNode &S, llvm::raw_ostream &OS, unsigned Indent) {
  OS << "for ";
  printName('%', S.Name, OS);
  OS << " from ";
  printExpr(S.Min, OS);
  OS << " extent ";
  printExpr(S.Extent, OS);
  OS << ' ' << forKindName(S.Loop) << ' ';
  printBlock(S.Body, OS, Indent);
}

void printIf(const StmtNode &S, llvm::raw_ostream &OS, unsigned Indent) {
  OS << "if ";
  printExpr(S.Cond, OS);
  OS << ' ';
  printBlock(S.Body, OS, Indent);
  if (S.Else) {
    OS << " else ";
    printBlock(S.Else, OS, Indent);
  }
}

void printDirective(const Directive &D, llvm::raw_ostream &OS) {
  OS << directiveName(D.Kind);
  for (size_t I = 0; I < D.Loops.size(); ++I) {
    OS << (I ? ", " : " ");
    printName('%', D.Loops[I], OS);
  }
  if (!D.Factors.empty()) {
    OS << " by ";
    for (size_t I = 0; I < D.Factors.size(); ++I)
      OS << (I ? ", " : "") << D.Factors[I];
  }
  if (D.Tail != Directive::TailLoop)
    OS << " tail " << tailName(D.Tail);
}

void printParam(const BufferDecl &B, llvm::raw_ostream &OS) {
  printName('%', B.Name, OS);
  OS << ": " << scalarTypeName(B.Elem) << '[';
  if (B.Shape.empty())
    OS << B.Size;
  for (size_t I = 0; I < B.Shape.size(); ++I)
    OS << (I ? "," : "") << B.Shape[I];
  OS << ']';
  if (B.ReadOnly)
    OS << " readonly";
}

void printKernelAt(const Kernel &K, llvm::raw_ostream &OS, unsigned Indent) {
  printIndent(Indent, OS);
  OS << "kernel ";
  printName('@', K.Name, OS);
  OS << '(';
  for (size_t I = 0; I < K.Params.size(); ++I) {
    if (I)
      OS << ", ";
    printParam(K.Params[I], OS);
  }
  OS << ") ";
  if (!K.Family.empty())
    OS << "family " << K.Family << ' ';
  printBlock(K.Body, OS, Indent);
  if (!K.Sched.empty()) {
    OS << " schedule {\n";
    for (const Directive &D : K.Sched) {
      printIndent(Indent + 2, OS);
      printDirective(D, OS);
      OS << '\n';
    }
    printIndent(Indent, OS);
    OS << '}';
  }
  OS << '\n';
}

void printBinding(const BufferBinding &B, llvm::raw_ostream &OS) {
  OS << storageKindName(B.Storage) << ' ';
  if (B.Storage == StorageKind::Weights || B.Storage == StorageKind::Workspace)
    OS << '@' << B.Offset;
  else
    OS << B.Index;
  if (B.Storage == StorageKind::Temp && B.Offset)
    OS << " @" << B.Offset;
}

void printCall(const KernelCall &C, llvm::raw_ostream &OS) {
  OS << "  call ";
  printName('@', C.Kernel, OS);
  OS << '(';
  for (size_t I = 0; I < C.Args.size(); ++I) {
    if (I)
      OS << ", ";
    printBinding(C.Args[I], OS);
  }
  OS << ")\n";
}

void printIO(const char *Word, size_t Index, const IOInfo &IO,
             llvm::raw_ostream &OS) {
  OS << "  " << Word << ' ' << Index << ' ';
  printQuoted(IO.Name, OS);
  OS << " : " << IO.Type.str() << '\n';
}

void printWeights(const std::vector<uint8_t> &W, llvm::raw_ostream &OS,
                  const LoopPrintOptions &Opts) {
  if (W.empty())
    return;
  OS << "  weights " << W.size() << ' ';
  if (Opts.ElideWeights) {
    OS << "<elided>\n";
    return;
  }
  OS << "0x";
  for (uint8_t B : W)
    OS << llvm::hexdigit(B >> 4) << llvm::hexdigit(B & 15);
  OS << '\n';
}

} // namespace

void tidal::printExpr(const Expr &EP, llvm::raw_ostream &OS) {
  if (!EP) {
    OS << "<null>";
    return;
  }
  const ExprNode &E = *EP;
  switch (E.Kind) {
  case ExprKind::IntImm:
    OS << E.IntValue;
    printTypeSuffix(E.Type, OS);
    return;
  case ExprKind::FloatImm:
    OS << formatDouble(E.FloatValue) << ':' << E.Type.str();
    return;
  case ExprKind::Var:
    printName('%', E.Name, OS);
    printTypeSuffix(E.Type, OS);
    return;
  case ExprKind::Binary:
    printBinary(E, OS);
    return;
  case ExprKind::Not:
    OS << "not";
    printOperands(E, OS);
    return;
  case ExprKind::Select:
    OS << "select";
    printOperands(E, OS);
    return;
  case ExprKind::Load:
    OS << "load ";
    printName('%', E.Name, OS);
    printIndices(E.Operands, OS);
    printTypeSuffix(E.Type, OS);
    return;
  case ExprKind::Cast:
    OS << "cast";
    printOperands(E, OS);
    OS << ':' << E.Type.str();
    return;
  case ExprKind::Call:
    OS << "call ";
    printName('@', E.Name, OS);
    printOperands(E, OS);
    printTypeSuffix(E.Type, OS);
    return;
  case ExprKind::Ramp:
    OS << "ramp(";
    printExpr(E.Operands[0], OS);
    OS << ", ";
    printExpr(E.Operands[1], OS);
    OS << ", " << E.Type.Lanes << ')';
    return;
  case ExprKind::Broadcast:
    OS << "broadcast(";
    printExpr(E.Operands[0], OS);
    OS << ", " << E.Type.Lanes << ')';
    return;
  }
  OS << "<bad expr>";
}

void tidal::printStmt(const Stmt &SP, llvm::raw_ostream &OS, unsigned Indent) {
  if (!SP)
    return;
  const StmtNode &S = *SP;
  if (S.Kind == StmtKind::Seq) {
    for (const Stmt &Sub : S.Stmts)
      printStmt(Sub, OS, Indent);
    return;
  }
  printIndent(Indent, OS);
  switch (S.Kind) {
  case StmtKind::For:
    printFor(S, OS, Indent);
    break;
  case StmtKind::Store:
    printName('%', S.Name, OS);
    printIndices(S.Indices, OS);
    OS << " = ";
    printExpr(S.Value, OS);
    break;
  case StmtKind::Let:
    OS << "let ";
    printName('%', S.Name, OS);
    OS << " = ";
    printExpr(S.Value, OS);
    OS << ' ';
    printBlock(S.Body, OS, Indent);
    break;
  case StmtKind::Allocate:
    OS << "allocate ";
    printName('%', S.Name, OS);
    OS << ": " << scalarTypeName(S.Elem) << '[' << S.Size << "] ";
    printBlock(S.Body, OS, Indent);
    break;
  case StmtKind::If:
    printIf(S, OS, Indent);
    break;
  case StmtKind::Prefetch:
    OS << "prefetch ";
    printName('%', S.Name, OS);
    printIndices(S.Indices, OS);
    break;
  case StmtKind::Seq:
    break;
  }
  OS << '\n';
}

void tidal::printKernel(const Kernel &K, llvm::raw_ostream &OS) {
  printKernelAt(K, OS, 0);
}

void tidal::printProgram(const Program &P, llvm::raw_ostream &OS,
                         const LoopPrintOptions &Opts) {
  OS << "program ";
  printName('@', P.Name, OS);
  OS << " {\n";
  for (size_t I = 0; I < P.Inputs.size(); ++I)
    printIO("input", I, P.Inputs[I], OS);
  for (size_t I = 0; I < P.Outputs.size(); ++I)
    printIO("output", I, P.Outputs[I], OS);
  printWeights(P.Weights, OS, Opts);
  for (size_t I = 0; I < P.TempSizes.size(); ++I)
    OS << "  temp " << I << " : " << P.TempSizes[I] << '\n';
  OS << "  workspace " << P.WorkspaceSize << '\n';
  for (const Kernel &K : P.Kernels)
    printKernelAt(K, OS, 2);
  for (const KernelCall &C : P.Calls)
    printCall(C, OS);
  OS << "}\n";
}
