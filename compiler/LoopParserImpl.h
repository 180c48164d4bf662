//===- LoopParserImpl.h - Internals of the loop IR parser -------*- C++ -*-===//
//
// The lexer and the recursive-descent parser of the loop IR text, shared by
// LoopLexer.cpp, LoopParser.cpp (programs, kernels, statements) and
// LoopParserExpr.cpp (expressions). Not a public interface: use
// tidal::parseProgram() from Loop.h.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_LOOPPARSERIMPL_H
#define TIDAL_COMPILER_LOOPPARSERIMPL_H

#include "compiler/Loop.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include <string>

namespace tidal {
namespace loopparse {

enum class Tok : uint8_t {
  Eof, Ident, Percent, At, Int, Float, Hex, String, Punct, Bad
};

struct Token {
  Tok Kind = Tok::Eof;
  std::string Text; // identifier, decoded name or string, digits, or punct
  unsigned Line = 1, Col = 1;
};

inline bool isNameChar(char C) { return llvm::isAlnum(C) || C == '_' || C == '.'; }

/// Splits the text into tokens; `//` starts a comment to the end of line.
class Lexer {
public:
  explicit Lexer(llvm::StringRef Text) : Text(Text) {}
  Token next();

private:
  char peek(size_t Ahead = 0) const {
    return Pos + Ahead < Text.size() ? Text[Pos + Ahead] : '\0';
  }
  void advance() {
    if (Text[Pos++] == '\n') {
      ++Line;
      Col = 1;
    } else {
      ++Col;
    }
  }
  void skipSpace();
  void lexWhile(Token &T, bool (*Pred)(char));
  void lexNumber(Token &T);
  bool lexQuoted(Token &T);
  void lexName(Token &T, Tok Kind);

  llvm::StringRef Text;
  size_t Pos = 0;
  unsigned Line = 1, Col = 1;
};

/// Recursive-descent parser. Every parse function returns false (or null)
/// after recording the first error; later errors are ignored.
class Parser {
public:
  explicit Parser(llvm::StringRef Text) : Lex(Text) { Cur = Lex.next(); }
  llvm::Expected<std::unique_ptr<Program>> parse();
  llvm::Expected<std::vector<KernelSchedule>> parseSchedules();

private:
  static constexpr unsigned MaxDepth = 1000;

  // Tokens.
  void consume() { Cur = Lex.next(); }
  bool isPunct(char C) const {
    return Cur.Kind == Tok::Punct && Cur.Text.size() == 1 && Cur.Text[0] == C;
  }
  bool isWord(llvm::StringRef W) const {
    return Cur.Kind == Tok::Ident && Cur.Text == W;
  }
  bool fail(const llvm::Twine &Msg) { return failAt(Cur, Msg); }
  bool failAt(const Token &T, const llvm::Twine &Msg);
  bool expectPunct(char C);
  bool expectWord(llvm::StringRef W);
  bool parseName(Tok Kind, std::string &Name);
  bool parseInt(int64_t &V);
  bool parseDouble(double &V);
  bool parseDataType(DataType &T);
  bool parseScalar(ScalarType &T);
  template <typename F> bool parseList(char Close, F Item);


  // Program items.
  bool parseItem(Program &P);
  bool parseIO(std::vector<IOInfo> &List, const char *What);
  bool parseTensorType(TensorType &T);
  bool parseQuantization(Quantization &Q);
  bool parseWeights(Program &P);
  bool parseTemp(Program &P);
  bool parseKernel(Program &P);
  bool parseParam(Kernel &K);
  bool parseSchedule(Kernel &K);
  bool parseDirective(Kernel &K);
  bool parseCall(Program &P);
  bool parseBinding(KernelCall &C);

  // Statements.
  Stmt parseBlock();
  Stmt parseStmt();
  Stmt parseFor();
  Stmt parseLet();
  Stmt parseAllocate();
  Stmt parseIf();
  Stmt parseStore();
  Stmt parsePrefetch();
  bool parseIndices(std::vector<Expr> &Indices, Token *First = nullptr);
  bool checkIndices(const Token &At, const std::vector<Expr> &Indices,
                    DataType Value, llvm::StringRef What);

  // Expressions.
  Expr parseExpr();
  Expr parseExprInner();
  Expr parseNumber(bool Negative);
  Expr parseVar();
  Expr parseParen();
  Expr parseBinaryCall(BinaryOp Op);
  Expr parseNot();
  Expr parseSelect();
  Expr parseLoad();
  Expr parseCast();
  Expr parseCall();
  Expr parseRamp();
  Expr parseBroadcast();
  bool parseSuffix(DataType &T, DataType Default);
  bool parseLanes(unsigned &Lanes);
  bool parseArgs(std::vector<Expr> &Args, unsigned Count);
  Expr makeBinary(const Token &At, BinaryOp Op, Expr A, Expr B);

  Lexer Lex;
  Token Cur;
  unsigned Depth = 0;
  std::string Error;
};

/// Counts nesting depth for the lifetime of a parse call.
struct DepthGuard {
  unsigned &D;
  explicit DepthGuard(unsigned &D) : D(D) { ++D; }
  ~DepthGuard() { --D; }
};

/// Items separated by commas up to (and consuming) Close.
template <typename F> bool Parser::parseList(char Close, F Item) {
  if (isPunct(Close)) {
    consume();
    return true;
  }
  while (true) {
    if (!Item())
      return false;
    if (isPunct(Close)) {
      consume();
      return true;
    }
    if (!expectPunct(','))
      return false;
  }
}

} // namespace loopparse
} // namespace tidal

#endif
