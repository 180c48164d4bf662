//===- LoopParserExpr.cpp - Expressions of the loop IR text ---------------===//
//
// The expression rules of the loop IR parser (docs/loop-ir.md): immediates,
// variables, infix and named binary operations, not, select, load, cast,
// call, ramp and broadcast, each checked for what its node constructor
// would assert on.
//
//===----------------------------------------------------------------------===//

#include "compiler/LoopParserImpl.h"
#include <cmath>
#include <cstdlib>

using namespace tidal;
using namespace tidal::loopparse;

Expr Parser::parseExpr() {
  DepthGuard G(Depth);
  if (Depth > MaxDepth) {
    fail("expression nested too deeply");
    return nullptr;
  }
  return parseExprInner();
}

Expr Parser::parseExprInner() {
  if (isPunct('-')) {
    consume();
    return parseNumber(/*Negative=*/true);
  }
  if (Cur.Kind == Tok::Int || Cur.Kind == Tok::Float || isWord("inf") ||
      isWord("nan"))
    return parseNumber(false);
  if (Cur.Kind == Tok::Percent)
    return parseVar();
  if (isPunct('('))
    return parseParen();
  if (Cur.Kind == Tok::Ident) {
    if (auto Op = parseBinaryOp(Cur.Text))
      return parseBinaryCall(*Op);
    if (Cur.Text == "not")
      return parseNot();
    if (Cur.Text == "select")
      return parseSelect();
    if (Cur.Text == "load")
      return parseLoad();
    if (Cur.Text == "cast")
      return parseCast();
    if (Cur.Text == "call")
      return parseCall();
    if (Cur.Text == "ramp")
      return parseRamp();
    if (Cur.Text == "broadcast")
      return parseBroadcast();
  }
  if (Cur.Kind == Tok::Eof)
    fail("unexpected end of text: expected an expression");
  else
    fail("expected an expression");
  return nullptr;
}

/// `:TYPE` if present, else Default.
bool Parser::parseSuffix(DataType &T, DataType Default) {
  T = Default;
  if (!isPunct(':'))
    return true;
  consume();
  return parseDataType(T);
}

/// An integer or float immediate, after an optional `-` already consumed.
Expr Parser::parseNumber(bool Negative) {
  Token Lit = Cur;
  bool IsFloat = Cur.Kind == Tok::Float || Cur.Kind == Tok::Ident;
  if (Cur.Kind != Tok::Int && !IsFloat) {
    fail("expected a number after '-'");
    return nullptr;
  }
  if (IsFloat && Cur.Kind == Tok::Ident && Cur.Text != "inf" &&
      Cur.Text != "nan") {
    fail("expected a number after '-'");
    return nullptr;
  }
  consume();
  DataType T;
  if (!parseSuffix(T, IsFloat ? DataType(ScalarType::F32)
                              : DataType(ScalarType::I64)))
    return nullptr;
  if (!IsFloat) {
    uint64_t U = 0;
    if (llvm::StringRef(Lit.Text).getAsInteger(10, U) ||
        U > uint64_t(INT64_MAX) + (Negative ? 1 : 0)) {
      failAt(Lit, "integer immediate out of range");
      return nullptr;
    }
    return intImm(Negative ? static_cast<int64_t>(0 - U)
                           : static_cast<int64_t>(U),
                  T);
  }
  if (!isFloat(T.Scalar)) {
    failAt(Lit, "float immediate of non-float type " + T.str());
    return nullptr;
  }
  double V = Lit.Text == "inf"   ? INFINITY
             : Lit.Text == "nan" ? NAN
                                 : std::strtod(Lit.Text.c_str(), nullptr);
  return floatImm(Negative ? -V : V, T);
}

Expr Parser::parseVar() {
  std::string Name = Cur.Text;
  consume();
  DataType T;
  if (!parseSuffix(T, DataType(ScalarType::I64)))
    return nullptr;
  return var(Name, T);
}

Expr Parser::makeBinary(const Token &At, BinaryOp Op, Expr A, Expr B) {
  if (A->Type != B->Type) {
    failAt(At, binaryOpName(Op) + " of different types " + A->Type.str() +
                   " and " + B->Type.str());
    return nullptr;
  }
  return binary(Op, A, B);
}

/// `(A + B)` and the other infix operators, or a parenthesized expression.
Expr Parser::parseParen() {
  consume();
  Expr A = parseExpr();
  if (!A)
    return nullptr;
  if (isPunct(')')) {
    consume();
    return A;
  }
  Token OpTok = Cur;
  static const std::pair<char, BinaryOp> Infix[] = {
      {'+', BinaryOp::Add}, {'-', BinaryOp::Sub}, {'*', BinaryOp::Mul},
      {'/', BinaryOp::Div}, {'%', BinaryOp::Mod}};
  std::optional<BinaryOp> Op;
  for (auto [C, O] : Infix)
    if (isPunct(C))
      Op = O;
  if (!Op) {
    fail("expected ')' or one of + - * / %");
    return nullptr;
  }
  consume();
  Expr B = parseExpr();
  if (!B || !expectPunct(')'))
    return nullptr;
  return makeBinary(OpTok, *Op, A, B);
}

/// Exactly Count comma-separated expressions in parentheses.
bool Parser::parseArgs(std::vector<Expr> &Args, unsigned Count) {
  if (!expectPunct('('))
    return false;
  for (unsigned I = 0; I < Count; ++I) {
    if (I && !expectPunct(','))
      return false;
    Expr E = parseExpr();
    if (!E)
      return false;
    Args.push_back(std::move(E));
  }
  return expectPunct(')');
}

Expr Parser::parseBinaryCall(BinaryOp Op) {
  Token At = Cur;
  consume();
  std::vector<Expr> Args;
  if (!parseArgs(Args, 2))
    return nullptr;
  return makeBinary(At, Op, Args[0], Args[1]);
}

Expr Parser::parseNot() {
  consume();
  std::vector<Expr> Args;
  if (!parseArgs(Args, 1))
    return nullptr;
  return logicalNot(Args[0]);
}

Expr Parser::parseSelect() {
  Token At = Cur;
  consume();
  std::vector<Expr> Args;
  if (!parseArgs(Args, 3))
    return nullptr;
  if (Args[0]->Type.Scalar != ScalarType::Bool) {
    failAt(At, "select condition must be bool, not " + Args[0]->Type.str());
    return nullptr;
  }
  if (Args[1]->Type != Args[2]->Type) {
    failAt(At, "select arms of different types " + Args[1]->Type.str() +
                   " and " + Args[2]->Type.str());
    return nullptr;
  }
  return select(Args[0], Args[1], Args[2]);
}

/// `load %buf[INDEX]:TYPE` or `load %buf[I, J, ...]:TYPE`.
Expr Parser::parseLoad() {
  Token At = Cur;
  consume();
  std::string Name;
  std::vector<Expr> Indices;
  DataType T;
  if (!parseName(Tok::Percent, Name) || !parseIndices(Indices) ||
      !parseSuffix(T, DataType(ScalarType::I64)) ||
      !checkIndices(At, Indices, T, "load"))
    return nullptr;
  if (Indices.size() == 1)
    return load(Name, T, Indices[0]);
  return load(Name, T, std::move(Indices));
}

/// `cast(A):TYPE`. Built directly: cast() would drop a same-type cast.
Expr Parser::parseCast() {
  Token At = Cur;
  consume();
  std::vector<Expr> Args;
  DataType T;
  if (!parseArgs(Args, 1) || !expectPunct(':') || !parseDataType(T))
    return nullptr;
  if (Args[0]->Type.Lanes != T.Lanes) {
    failAt(At, "cast from " + Args[0]->Type.str() + " to " + T.str() +
                   " changes the lane count");
    return nullptr;
  }
  auto N = std::make_shared<ExprNode>();
  N->Kind = ExprKind::Cast;
  N->Type = T;
  N->Operands = {Args[0]};
  return N;
}

/// `call @name(ARGS):TYPE`.
Expr Parser::parseCall() {
  consume();
  std::string Name;
  if (!parseName(Tok::At, Name) || !expectPunct('('))
    return nullptr;
  std::vector<Expr> Args;
  bool Ok = parseList(')', [&] {
    Expr E = parseExpr();
    if (!E)
      return false;
    Args.push_back(std::move(E));
    return true;
  });
  DataType T;
  if (!Ok || !parseSuffix(T, DataType(ScalarType::I64)))
    return nullptr;
  return call(Name, T, std::move(Args));
}

bool Parser::parseLanes(unsigned &Lanes) {
  Token At = Cur;
  int64_t V = 0;
  if (!parseInt(V))
    return false;
  if (V < 1 || V > 1024)
    return failAt(At, "lane count must be 1 to 1024");
  Lanes = static_cast<unsigned>(V);
  return true;
}

/// `ramp(BASE, STRIDE, LANES)`.
Expr Parser::parseRamp() {
  Token At = Cur;
  consume();
  if (!expectPunct('('))
    return nullptr;
  Expr Base = parseExpr();
  if (!Base || !expectPunct(','))
    return nullptr;
  Expr Stride = parseExpr();
  unsigned Lanes = 1;
  if (!Stride || !expectPunct(',') || !parseLanes(Lanes) || !expectPunct(')'))
    return nullptr;
  if (Base->Type.isVector() || Base->Type != Stride->Type) {
    failAt(At, "ramp base and stride must be scalars of one type, not " +
                   Base->Type.str() + " and " + Stride->Type.str());
    return nullptr;
  }
  return ramp(Base, Stride, Lanes);
}

/// `broadcast(SCALAR, LANES)`.
Expr Parser::parseBroadcast() {
  Token At = Cur;
  consume();
  if (!expectPunct('('))
    return nullptr;
  Expr Scalar = parseExpr();
  unsigned Lanes = 1;
  if (!Scalar || !expectPunct(',') || !parseLanes(Lanes) || !expectPunct(')'))
    return nullptr;
  if (Scalar->Type.isVector()) {
    failAt(At, "broadcast of a vector " + Scalar->Type.str());
    return nullptr;
  }
  return broadcast(Scalar, Lanes);
}

