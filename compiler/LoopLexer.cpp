//===- LoopLexer.cpp - Tokens of the loop IR text -------------------------===//
//
// Splits loop IR text into tokens with their line and column. Names after
// `%` and `@` may be quoted; numbers, hex blobs (`0x...`) and strings are
// single tokens; anything else is one punctuation character or a Bad token
// that the parser reports.
//
//===----------------------------------------------------------------------===//

#include "compiler/LoopParserImpl.h"

using namespace tidal;
using namespace tidal::loopparse;

void Lexer::skipSpace() {
  while (Pos < Text.size()) {
    char C = peek();
    if (C == '/' && peek(1) == '/') {
      while (Pos < Text.size() && peek() != '\n')
        advance();
    } else if (C == ' ' || C == '\t' || C == '\n' || C == '\r') {
      advance();
    } else {
      return;
    }
  }
}

void Lexer::lexWhile(Token &T, bool (*Pred)(char)) {
  while (Pos < Text.size() && Pred(peek())) {
    T.Text += peek();
    advance();
  }
}

static bool isDigitChar(char C) { return llvm::isDigit(C); }
static bool isHexChar(char C) { return llvm::isHexDigit(C); }

void Lexer::lexNumber(Token &T) {
  if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
    advance();
    advance();
    T.Kind = Tok::Hex;
    lexWhile(T, isHexChar);
    return;
  }
  T.Kind = Tok::Int;
  lexWhile(T, isDigitChar);
  if (peek() == '.') {
    T.Kind = Tok::Float;
    T.Text += '.';
    advance();
    lexWhile(T, isDigitChar);
  }
  bool Sign = peek(1) == '+' || peek(1) == '-';
  if ((peek() == 'e' || peek() == 'E') && llvm::isDigit(peek(Sign ? 2 : 1))) {
    T.Kind = Tok::Float;
    T.Text += peek();
    advance();
    if (Sign) {
      T.Text += peek();
      advance();
    }
    lexWhile(T, isDigitChar);
  }
}

/// Reads a "..." literal with \XX hex escapes into T.Text.
bool Lexer::lexQuoted(Token &T) {
  advance(); // the opening quote
  while (Pos < Text.size() && peek() != '"' && peek() != '\n') {
    if (peek() != '\\') {
      T.Text += peek();
      advance();
      continue;
    }
    if (!llvm::isHexDigit(peek(1)) || !llvm::isHexDigit(peek(2)))
      return false;
    T.Text += static_cast<char>(llvm::hexDigitValue(peek(1)) * 16 +
                                llvm::hexDigitValue(peek(2)));
    advance();
    advance();
    advance();
  }
  if (peek() != '"')
    return false;
  advance();
  return true;
}

void Lexer::lexName(Token &T, Tok Kind) {
  advance(); // the sigil
  T.Kind = Kind;
  if (peek() == '"') {
    if (!lexQuoted(T))
      T.Kind = Tok::Bad;
    return;
  }
  lexWhile(T, isNameChar);
}

Token Lexer::next() {
  skipSpace();
  Token T;
  T.Line = Line;
  T.Col = Col;
  if (Pos >= Text.size())
    return T;
  char C = peek();
  if (llvm::isDigit(C)) {
    lexNumber(T);
  } else if (llvm::isAlpha(C) || C == '_') {
    T.Kind = Tok::Ident;
    lexWhile(T, isNameChar);
  } else if ((C == '%' || C == '@') && (isNameChar(peek(1)) || peek(1) == '"')) {
    lexName(T, C == '%' ? Tok::Percent : Tok::At);
  } else if (C == '"') {
    T.Kind = Tok::String;
    if (!lexQuoted(T))
      T.Kind = Tok::Bad;
  } else if (llvm::StringRef("()[]{},:;=+-*/%<>").contains(C)) {
    T.Kind = Tok::Punct;
    T.Text = C;
    advance();
  } else {
    T.Kind = Tok::Bad;
    T.Text = C;
    advance();
  }
  return T;
}

