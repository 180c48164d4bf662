//===- GraphLexer.h - Tokens of the graph IR text ---------------*- C++ -*-===//
//
// Internal to GraphParser.cpp: splits graph IR text into tokens. Every read
// is bounds-checked, so any bytes (truncated or random text) lex to tokens
// or to one Bad token carrying the message; nothing is allocated beyond the
// text's own size.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_GRAPHLEXER_H
#define TIDAL_COMPILER_GRAPHLEXER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include <string>

namespace tidal {
namespace graphtext {

enum class Tok {
  Eof, Ident, ValueName, GlobalName, Int, Float, Hex, String, Elided,
  LParen, RParen, LBracket, RBracket, LBrace, RBrace, Less, Greater,
  Comma, Colon, Semicolon, Equal, Arrow, Bad
};

struct Token {
  Tok Kind = Tok::Eof;
  /// Identifier / number text, or the decoded name or string.
  std::string Text;
  size_t Pos = 0;
};

/// A name for messages: "'('", "an integer", ...
const char *tokName(Tok K);

/// Turns the text into tokens one at a time. A lexical error is a Bad token
/// whose Text is the message; after it the lexer yields only end of input.
class Lexer {
public:
  explicit Lexer(llvm::StringRef Text) : Text(Text) {}
  Token next();

private:
  void skipSpaceAndComments();
  Token make(Tok K, size_t Begin, size_t End);
  Token bad(size_t At, const llvm::Twine &Msg);
  Token lexIdent();
  Token lexName(Tok K);
  Token lexString(Tok K, size_t Begin);
  Token lexNumberOrArrow();

  llvm::StringRef Text;
  size_t Pos = 0;
};

} // namespace graphtext
} // namespace tidal

#endif
