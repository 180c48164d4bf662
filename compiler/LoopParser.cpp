//===- LoopParser.cpp - Text to loop IR -----------------------------------===//
//
// Reads the text LoopPrinter.cpp writes (grammar in docs/loop-ir.md) back
// into a Program. The parser checks what the node constructors assert on
// (operand types, lane counts) and reports it as `line:col: message`, so no
// input text can crash it; scoping and everything else is the verifier's
// job (verifyProgram), which callers run after parsing. Nesting is limited
// so that hostile input cannot exhaust the stack. This file holds the
// program, kernel and statement rules; LoopParserExpr.cpp the expressions,
// LoopLexer.cpp the tokens.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "compiler/LoopParserImpl.h"
#include <cmath>
#include <cstdlib>

using namespace tidal;
using namespace tidal::loopparse;

bool Parser::failAt(const Token &T, const llvm::Twine &Msg) {
  if (!Error.empty())
    return false;
  std::string Text = Msg.str();
  if (T.Kind == Tok::Eof && !llvm::StringRef(Text).starts_with("unexpected end"))
    Text = "unexpected end of text: " + Text;
  Error = (llvm::Twine(T.Line) + ":" + llvm::Twine(T.Col) + ": " + Text).str();
  return false;
}

bool Parser::expectPunct(char C) {
  if (!isPunct(C))
    return fail(llvm::Twine("expected '") + llvm::Twine(C) + "'");
  consume();
  return true;
}

bool Parser::expectWord(llvm::StringRef W) {
  if (!isWord(W))
    return fail("expected '" + W + "'");
  consume();
  return true;
}

bool Parser::parseName(Tok Kind, std::string &Name) {
  if (Cur.Kind != Kind)
    return fail(Kind == Tok::Percent ? "expected a %name" : "expected an @name");
  Name = Cur.Text;
  consume();
  return true;
}

bool Parser::parseInt(int64_t &V) {
  Token Start = Cur;
  bool Neg = isPunct('-');
  if (Neg)
    consume();
  if (Cur.Kind != Tok::Int)
    return fail("expected an integer");
  uint64_t U = 0;
  if (llvm::StringRef(Cur.Text).getAsInteger(10, U) ||
      U > uint64_t(INT64_MAX) + (Neg ? 1 : 0))
    return failAt(Start, "integer out of range");
  V = Neg ? static_cast<int64_t>(0 - U) : static_cast<int64_t>(U);
  consume();
  return true;
}

/// A number as in a quantization scale: optional `-`, then digits, a
/// decimal fraction, `inf` or `nan`.
bool Parser::parseDouble(double &V) {
  bool Neg = isPunct('-');
  if (Neg)
    consume();
  if (Cur.Kind == Tok::Int || Cur.Kind == Tok::Float)
    V = std::strtod(Cur.Text.c_str(), nullptr);
  else if (isWord("inf"))
    V = INFINITY;
  else if (isWord("nan"))
    V = NAN;
  else
    return fail("expected a number");
  if (Neg)
    V = -V;
  consume();
  return true;
}

bool Parser::parseScalar(ScalarType &T) {
  std::optional<ScalarType> S;
  if (Cur.Kind == Tok::Ident)
    S = parseScalarType(Cur.Text);
  if (!S)
    return fail("expected a scalar type");
  T = *S;
  consume();
  return true;
}

/// `f32` or `f32x8` (2 to 1024 lanes).
bool Parser::parseDataType(DataType &T) {
  if (Cur.Kind != Tok::Ident)
    return fail("expected a type");
  llvm::StringRef Text = Cur.Text;
  if (auto S = parseScalarType(Text)) {
    T = DataType(*S);
    consume();
    return true;
  }
  auto [Base, LaneText] = Text.rsplit('x');
  auto S = parseScalarType(Base);
  unsigned Lanes = 0;
  if (!S || LaneText.getAsInteger(10, Lanes) || Lanes < 2 || Lanes > 1024)
    return fail("expected a type such as f32 or f32x8");
  T = DataType(*S, Lanes);
  consume();
  return true;
}

//===----------------------------------------------------------------------===//
// Program items
//===----------------------------------------------------------------------===//

llvm::Expected<std::unique_ptr<Program>> Parser::parse() {
  auto P = std::make_unique<Program>();
  bool Ok = expectWord("program") && parseName(Tok::At, P->Name) &&
            expectPunct('{');
  while (Ok && !isPunct('}'))
    Ok = parseItem(*P);
  if (Ok) {
    consume();
    if (Cur.Kind != Tok::Eof)
      Ok = fail("expected the end of the text after the program");
  }
  if (!Ok && Error.empty())
    fail("malformed input");
  if (!Ok)
    return makeError(Error);
  return std::move(P);
}

bool Parser::parseItem(Program &P) {
  if (Cur.Kind == Tok::Eof)
    return fail("unexpected end of text: expected '}'");
  if (Cur.Kind == Tok::Bad)
    return fail("unexpected character '" + Cur.Text + "'");
  if (isWord("input"))
    return parseIO(P.Inputs, "input");
  if (isWord("output"))
    return parseIO(P.Outputs, "output");
  if (isWord("weights"))
    return parseWeights(P);
  if (isWord("temp"))
    return parseTemp(P);
  if (isWord("workspace")) {
    consume();
    return parseInt(P.WorkspaceSize);
  }
  if (isWord("kernel"))
    return parseKernel(P);
  if (isWord("call"))
    return parseCall(P);
  return fail("expected input, output, weights, temp, workspace, kernel or "
              "call");
}

/// `input N "name" : type`, N counting from 0 in order.
bool Parser::parseIO(std::vector<IOInfo> &List, const char *What) {
  consume();
  Token At = Cur;
  int64_t Index = 0;
  if (!parseInt(Index))
    return false;
  if (Index != static_cast<int64_t>(List.size()))
    return failAt(At, llvm::Twine(What) + " " + llvm::Twine(Index) +
                          " out of order: expected " + llvm::Twine(List.size()));
  IOInfo IO;
  if (Cur.Kind != Tok::String)
    return fail("expected a quoted name");
  IO.Name = Cur.Text;
  consume();
  if (!expectPunct(':') || !parseTensorType(IO.Type))
    return false;
  List.push_back(std::move(IO));
  return true;
}

/// `f32[1,3,8,8]`, optionally followed by `q(scales; zero points; axis)`.
bool Parser::parseTensorType(TensorType &T) {
  std::optional<ElemType> E;
  if (Cur.Kind == Tok::Ident)
    E = parseElemType(Cur.Text);
  if (!E)
    return fail("expected an element type");
  T.Elem = *E;
  consume();
  if (!expectPunct('[') || !parseList(']', [&] {
        int64_t D = 0;
        if (!parseInt(D))
          return false;
        T.Shape.push_back(D);
        return true;
      }))
    return false;
  if (!isWord("q"))
    return true;
  consume();
  Quantization Q;
  if (!parseQuantization(Q))
    return false;
  T.Quant = std::move(Q);
  return true;
}

bool Parser::parseQuantization(Quantization &Q) {
  if (!expectPunct('('))
    return false;
  auto ParseScales = [&] {
    double V = 0;
    if (!parseDouble(V))
      return false;
    Q.Scales.push_back(static_cast<float>(V));
    return true;
  };
  auto ParseZeros = [&] {
    int64_t V = 0;
    if (!parseInt(V))
      return false;
    Q.ZeroPoints.push_back(V);
    return true;
  };
  int64_t Axis = 0;
  if (!parseList(';', ParseScales) || !parseList(';', ParseZeros) ||
      !parseInt(Axis))
    return false;
  Q.Axis = static_cast<int>(Axis);
  return expectPunct(')');
}

/// `weights N 0xHEX`; the elided form `weights N <elided>` is an error.
bool Parser::parseWeights(Program &P) {
  consume();
  int64_t Size = 0;
  if (!parseInt(Size))
    return false;
  if (isPunct('<'))
    return fail("the weights were elided when this program was printed; "
                "it cannot be parsed back");
  if (Cur.Kind != Tok::Hex)
    return fail("expected the weights as 0x followed by hex digits");
  if (Size < 0 || static_cast<uint64_t>(Size) * 2 != Cur.Text.size())
    return fail("the weights' hex digits do not hold " + llvm::Twine(Size) +
                " bytes");
  std::string Bytes = llvm::fromHex(Cur.Text);
  P.Weights.assign(Bytes.begin(), Bytes.end());
  consume();
  return true;
}

/// `temp N : BYTES`, N counting from 0 in order.
bool Parser::parseTemp(Program &P) {
  consume();
  Token At = Cur;
  int64_t Index = 0, Size = 0;
  if (!parseInt(Index))
    return false;
  if (Index != static_cast<int64_t>(P.TempSizes.size()))
    return failAt(At, "temp " + llvm::Twine(Index) + " out of order: expected " +
                          llvm::Twine(P.TempSizes.size()));
  if (!expectPunct(':') || !parseInt(Size))
    return false;
  P.TempSizes.push_back(Size);
  return true;
}

bool Parser::parseKernel(Program &P) {
  consume();
  Kernel K;
  if (!parseName(Tok::At, K.Name) || !expectPunct('(') ||
      !parseList(')', [&] { return parseParam(K); }))
    return false;
  if (isWord("family")) {
    consume();
    if (Cur.Kind != Tok::Ident)
      return fail("expected a kernel family after 'family'");
    K.Family = Cur.Text;
    consume();
  }
  K.Body = parseBlock();
  if (!K.Body)
    return false;
  if (isWord("schedule") && !parseSchedule(K))
    return false;
  P.Kernels.push_back(std::move(K));
  return true;
}

/// `%x: f32[192]` (flat) or `%x: f32[2,3,32]` (its shape), optionally
/// `readonly`.
bool Parser::parseParam(Kernel &K) {
  BufferDecl B;
  if (!parseName(Tok::Percent, B.Name) || !expectPunct(':') ||
      !parseScalar(B.Elem) || !expectPunct('[') ||
      !parseList(']', [&] {
        int64_t D = 0;
        if (!parseInt(D))
          return false;
        B.Shape.push_back(D);
        return true;
      }))
    return false;
  if (B.Shape.empty())
    return fail("buffer '%" + B.Name + "' has no size");
  B.Size = 1;
  for (int64_t D : B.Shape) {
    if (D < 0 || (D && B.Size > INT64_MAX / D))
      return fail("buffer '%" + B.Name + "' has a bad size");
    B.Size *= D;
  }
  if (B.Shape.size() == 1)
    B.Shape.clear();
  B.ReadOnly = isWord("readonly");
  if (B.ReadOnly)
    consume();
  K.Params.push_back(std::move(B));
  return true;
}

bool Parser::parseSchedule(Kernel &K) {
  consume();
  if (!expectPunct('{'))
    return false;
  while (!isPunct('}'))
    if (!parseDirective(K))
      return false;
  consume();
  return true;
}

/// `split %i, %i.o, %i.i by 8 [tail guard]`: a directive name, loop
/// names, factors and a split's tail.
/// The arity is the schedule pass's to check.
bool Parser::parseDirective(Kernel &K) {
  Directive D;
  bool Known = false;
  for (unsigned I = 0; I <= Directive::LastKind && !Known; ++I) {
    auto Kind = static_cast<Directive::KindT>(I);
    if (isWord(directiveName(Kind))) {
      D.Kind = Kind;
      Known = true;
    }
  }
  if (!Known)
    return fail("expected a schedule directive");
  consume();
  if (Cur.Kind == Tok::Percent) {
    while (true) {
      std::string Loop;
      if (!parseName(Tok::Percent, Loop))
        return false;
      D.Loops.push_back(std::move(Loop));
      if (!isPunct(','))
        break;
      consume();
    }
  }
  if (isWord("by")) {
    do {
      consume();
      int64_t F = 0;
      if (!parseInt(F))
        return false;
      D.Factors.push_back(F);
    } while (isPunct(','));
  }
  if (isWord("tail")) {
    consume();
    std::optional<Directive::TailT> T;
    if (Cur.Kind == Tok::Ident)
      T = parseTailName(Cur.Text);
    if (!T)
      return fail("expected loop, guard or shift after 'tail'");
    D.Tail = *T;
    consume();
  }
  K.Sched.push_back(std::move(D));
  return true;
}

bool Parser::parseCall(Program &P) {
  consume();
  KernelCall C;
  if (!parseName(Tok::At, C.Kernel) || !expectPunct('(') ||
      !parseList(')', [&] { return parseBinding(C); }))
    return false;
  P.Calls.push_back(std::move(C));
  return true;
}

/// `input 0`, `output 0`, `temp 0`, `weights @64` or `workspace @64`; a
/// temp may add a byte offset into it: `temp 0 @64`.
bool Parser::parseBinding(KernelCall &C) {
  static const StorageKind Kinds[] = {StorageKind::Input, StorageKind::Output,
                                      StorageKind::Weights,
                                      StorageKind::Workspace, StorageKind::Temp};
  for (StorageKind K : Kinds) {
    if (!isWord(storageKindName(K)))
      continue;
    consume();
    BufferBinding B{K, 0, 0};
    auto ParseOffset = [&] {
      uint64_t Off = 0;
      if (Cur.Kind != Tok::At || llvm::StringRef(Cur.Text).getAsInteger(10, Off) ||
          Off > uint64_t(INT64_MAX))
        return fail("expected a byte offset such as @64");
      B.Offset = static_cast<int64_t>(Off);
      consume();
      return true;
    };
    if (K == StorageKind::Weights || K == StorageKind::Workspace) {
      if (!ParseOffset())
        return false;
    } else if (!parseInt(B.Index) || (K == StorageKind::Temp &&
                                      Cur.Kind == Tok::At && !ParseOffset())) {
      return false;
    }
    C.Args.push_back(B);
    return true;
  }
  return fail("expected input, output, weights, workspace or temp");
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

/// `{ stmt* }`: no statement gives an empty Seq, one gives itself.
Stmt Parser::parseBlock() {
  DepthGuard G(Depth);
  if (Depth > MaxDepth) {
    fail("statements nested too deeply");
    return nullptr;
  }
  if (!expectPunct('{'))
    return nullptr;
  std::vector<Stmt> Stmts;
  while (!isPunct('}')) {
    Stmt S = parseStmt();
    if (!S)
      return nullptr;
    Stmts.push_back(std::move(S));
  }
  consume();
  return seq(std::move(Stmts));
}

Stmt Parser::parseStmt() {
  if (isWord("for"))
    return parseFor();
  if (isWord("let"))
    return parseLet();
  if (isWord("allocate"))
    return parseAllocate();
  if (isWord("if"))
    return parseIf();
  if (isWord("prefetch"))
    return parsePrefetch();
  if (Cur.Kind == Tok::Percent)
    return parseStore();
  if (Cur.Kind == Tok::Eof)
    fail("unexpected end of text: expected '}'");
  else
    fail("expected a statement (for, let, allocate, if, prefetch or a store)");
  return nullptr;
}

/// `for %i from MIN extent EXTENT KIND { ... }`.
Stmt Parser::parseFor() {
  consume();
  std::string Name;
  if (!parseName(Tok::Percent, Name) || !expectWord("from"))
    return nullptr;
  Expr Min = parseExpr();
  if (!Min || !expectWord("extent"))
    return nullptr;
  Expr Extent = parseExpr();
  if (!Extent)
    return nullptr;
  std::optional<ForKind> Kind;
  if (Cur.Kind == Tok::Ident)
    Kind = parseForKind(Cur.Text);
  if (!Kind) {
    fail("expected a loop kind (serial, parallel, vectorized, unrolled, "
         "gpu_block, gpu_thread)");
    return nullptr;
  }
  consume();
  Stmt Body = parseBlock();
  if (!Body)
    return nullptr;
  return forLoop(Name, Min, Extent, *Kind, Body);
}

Stmt Parser::parseLet() {
  consume();
  std::string Name;
  if (!parseName(Tok::Percent, Name) || !expectPunct('='))
    return nullptr;
  Expr Value = parseExpr();
  if (!Value)
    return nullptr;
  Stmt Body = parseBlock();
  if (!Body)
    return nullptr;
  return letStmt(Name, Value, Body);
}

Stmt Parser::parseAllocate() {
  consume();
  std::string Name;
  ScalarType Elem = ScalarType::F32;
  int64_t Size = 0;
  if (!parseName(Tok::Percent, Name) || !expectPunct(':') ||
      !parseScalar(Elem) || !expectPunct('[') || !parseInt(Size) ||
      !expectPunct(']'))
    return nullptr;
  Stmt Body = parseBlock();
  if (!Body)
    return nullptr;
  return allocate(Name, Elem, Size, Body);
}

Stmt Parser::parseIf() {
  consume();
  Token At = Cur;
  Expr Cond = parseExpr();
  if (!Cond)
    return nullptr;
  if (Cond->Type != DataType(ScalarType::Bool)) {
    failAt(At, "if condition must be a scalar bool, not " + Cond->Type.str());
    return nullptr;
  }
  Stmt Then = parseBlock();
  if (!Then)
    return nullptr;
  Stmt Else;
  if (isWord("else")) {
    consume();
    Else = parseBlock();
    if (!Else)
      return nullptr;
  }
  return ifThen(Cond, Then, Else);
}

/// `%buf[INDEX] = VALUE` or `%buf[I, J, ...] = VALUE`.
Stmt Parser::parseStore() {
  std::string Name = Cur.Text;
  consume();
  Token At;
  std::vector<Expr> Indices;
  if (!parseIndices(Indices, &At) || !expectPunct('='))
    return nullptr;
  Expr Value = parseExpr();
  if (!Value || !checkIndices(At, Indices, Value->Type, "store"))
    return nullptr;
  if (Indices.size() == 1)
    return store(Name, Indices[0], Value);
  return store(Name, std::move(Indices), Value);
}

/// `prefetch %buf[I, ...]`: scalar indices, one per dimension or one flat.
Stmt Parser::parsePrefetch() {
  consume();
  std::string Name;
  Token At;
  std::vector<Expr> Indices;
  if (!parseName(Tok::Percent, Name) || !parseIndices(Indices, &At) ||
      !checkIndices(At, Indices, DataType(ScalarType::I64), "prefetch"))
    return nullptr;
  return prefetch(Name, std::move(Indices));
}

/// `[INDEX]` or `[I, J, ...]`; First gets the first index's token.
bool Parser::parseIndices(std::vector<Expr> &Indices, Token *First) {
  if (!expectPunct('['))
    return false;
  if (First)
    *First = Cur;
  return parseList(']', [&] {
           Expr I = parseExpr();
           if (I)
             Indices.push_back(I);
           return I != nullptr;
         });
}

/// One index with the value's lanes, or several scalar ones.
bool Parser::checkIndices(const Token &At, const std::vector<Expr> &Indices,
                          DataType Value, llvm::StringRef What) {
  if (Indices.empty())
    return failAt(At, What + " without an index");
  if (Indices.size() == 1) {
    if (Indices[0]->Type == DataType(ScalarType::I64, Value.Lanes))
      return true;
    return failAt(At, What + " index must be i64 with the " +
                          (What == "load" ? "result" : "value") + "'s " +
                          llvm::Twine(Value.Lanes) + " lanes, not " +
                          Indices[0]->Type.str());
  }
  if (Value.isVector())
    return failAt(At, "a multi-dimensional " + What + " must be scalar");
  for (const Expr &I : Indices)
    if (I->Type != DataType(ScalarType::I64))
      return failAt(At, What + " indices must be scalar i64, not " +
                            I->Type.str());
  return true;
}


llvm::Expected<std::unique_ptr<Program>> tidal::parseProgram(llvm::StringRef Text) {
  return Parser(Text).parse();
}

/// `kernel @name { directive* }`, any number of times.
llvm::Expected<std::vector<KernelSchedule>> Parser::parseSchedules() {
  std::vector<KernelSchedule> List;
  bool Ok = true;
  while (Ok && Cur.Kind != Tok::Eof) {
    Kernel K;
    Ok = expectWord("kernel") && parseName(Tok::At, K.Name) &&
         expectPunct('{');
    while (Ok && !isPunct('}'))
      Ok = Cur.Kind == Tok::Eof ? fail("unexpected end of text: expected '}'")
                                : parseDirective(K);
    if (Ok) {
      consume();
      List.push_back({K.Name, std::move(K.Sched)});
    }
  }
  if (!Ok && Error.empty())
    fail("malformed input");
  if (!Ok)
    return makeError(Error);
  return List;
}

llvm::Expected<std::vector<KernelSchedule>>
tidal::parseSchedules(llvm::StringRef Text) {
  return Parser(Text).parseSchedules();
}
