//===- GraphLexer.cpp - Tokens of the graph IR text -----------------------===//

#include "compiler/GraphLexer.h"
#include "llvm/ADT/StringExtras.h"

using namespace tidal;
using namespace tidal::graphtext;

namespace {

bool isBareNameChar(char C) {
  return llvm::isAlnum(C) || C == '_' || C == '.' || C == '$' || C == '-' ||
         C == '/';
}

std::string printable(char C) {
  if (llvm::isPrint(C))
    return std::string(1, C);
  return "\\x" + llvm::utohexstr(static_cast<unsigned char>(C));
}

Tok punct(char C) {
  switch (C) {
  case '(': return Tok::LParen;
  case ')': return Tok::RParen;
  case '[': return Tok::LBracket;
  case ']': return Tok::RBracket;
  case '{': return Tok::LBrace;
  case '}': return Tok::RBrace;
  case '<': return Tok::Less;
  case '>': return Tok::Greater;
  case ',': return Tok::Comma;
  case ':': return Tok::Colon;
  case ';': return Tok::Semicolon;
  case '=': return Tok::Equal;
  default: return Tok::Bad;
  }
}

} // namespace

Token Lexer::next() {
  skipSpaceAndComments();
  Token T;
  T.Pos = Pos;
  if (Pos >= Text.size())
    return T;
  char C = Text[Pos];
  if (C == '%' || C == '@')
    return lexName(C == '%' ? Tok::ValueName : Tok::GlobalName);
  if (C == '"')
    return lexString(Tok::String, Pos);
  if (C == '-' || llvm::isDigit(C))
    return lexNumberOrArrow();
  if (llvm::isAlpha(C) || C == '_')
    return lexIdent();
  if (Text.substr(Pos).starts_with("...elided..."))
    return make(Tok::Elided, Pos, Pos + 12);
  if (Tok K = punct(C); K != Tok::Bad)
    return make(K, Pos, Pos + 1);
  return bad(Pos, llvm::Twine("unexpected character '") + printable(C) +
                      "'");
}

void Lexer::skipSpaceAndComments() {
  while (Pos < Text.size()) {
    if (llvm::isSpace(Text[Pos])) {
      ++Pos;
    } else if (Text.substr(Pos).starts_with("//")) {
      while (Pos < Text.size() && Text[Pos] != '\n')
        ++Pos;
    } else {
      return;
    }
  }
}

Token Lexer::make(Tok K, size_t Begin, size_t End) {
  Token T;
  T.Kind = K;
  T.Pos = Begin;
  T.Text = Text.slice(Begin, End).str();
  Pos = End;
  return T;
}

Token Lexer::bad(size_t At, const llvm::Twine &Msg) {
  Token T;
  T.Kind = Tok::Bad;
  T.Pos = At;
  T.Text = Msg.str();
  Pos = Text.size();
  return T;
}

Token Lexer::lexIdent() {
  size_t Begin = Pos, End = Pos;
  while (End < Text.size() && (llvm::isAlnum(Text[End]) || Text[End] == '_'))
    ++End;
  return make(Tok::Ident, Begin, End);
}

Token Lexer::lexName(Tok K) {
  size_t Begin = Pos++;
  if (Pos < Text.size() && Text[Pos] == '"') {
    Token T = lexString(K, Begin);
    return T;
  }
  size_t End = Pos;
  while (End < Text.size() && isBareNameChar(Text[End]) &&
         !Text.substr(End).starts_with("//"))
    ++End;
  if (End == Pos)
    return bad(Begin, "expected a name after '" + printable(Text[Begin]) +
                          "'");
  Token T = make(K, Pos, End);
  T.Pos = Begin;
  return T;
}

/// A double-quoted string starting at Pos; the token begins at Begin.
Token Lexer::lexString(Tok K, size_t Begin) {
  std::string S;
  ++Pos; // the opening quote
  while (true) {
    if (Pos >= Text.size() || Text[Pos] == '\n')
      return bad(Begin, "unterminated string");
    char C = Text[Pos++];
    if (C == '"')
      break;
    if (C != '\\') {
      S += C;
      continue;
    }
    if (Pos >= Text.size())
      return bad(Begin, "unterminated string");
    char E = Text[Pos++];
    if (E == '\\' || E == '"')
      S += E;
    else if (E == 'n')
      S += '\n';
    else if (E == 't')
      S += '\t';
    else if (Pos < Text.size() && llvm::isHexDigit(E) &&
             llvm::isHexDigit(Text[Pos]))
      S += static_cast<char>(llvm::hexDigitValue(E) * 16 +
                             llvm::hexDigitValue(Text[Pos++]));
    else
      return bad(Pos - 2, "bad escape in string");
  }
  Token T;
  T.Kind = K;
  T.Pos = Begin;
  T.Text = std::move(S);
  return T;
}

Token Lexer::lexNumberOrArrow() {
  size_t Begin = Pos, End = Pos;
  if (Text[End] == '-') {
    ++End;
    if (End < Text.size() && Text[End] == '>')
      return make(Tok::Arrow, Begin, End + 1);
    llvm::StringRef Rest = Text.substr(End);
    if (Rest.starts_with("inf") || Rest.starts_with("nan"))
      return make(Tok::Float, Begin, End + 3);
    if (End >= Text.size() || !llvm::isDigit(Text[End]))
      return bad(Begin, "expected a number after '-'");
  }
  if (Text.substr(End).starts_with("0x") ||
      Text.substr(End).starts_with("0X")) {
    if (End != Begin)
      return bad(Begin, "hex data cannot be negative");
    End += 2;
    size_t Digits = End;
    while (End < Text.size() && llvm::isHexDigit(Text[End]))
      ++End;
    Token T = make(Tok::Hex, Digits, End);
    T.Pos = Begin;
    return T;
  }
  bool IsFloat = false;
  auto Digits = [&] {
    while (End < Text.size() && llvm::isDigit(Text[End]))
      ++End;
  };
  Digits();
  if (End < Text.size() && Text[End] == '.') {
    IsFloat = true;
    ++End;
    Digits();
  }
  if (End < Text.size() && (Text[End] == 'e' || Text[End] == 'E')) {
    size_t E = End + 1;
    if (E < Text.size() && (Text[E] == '+' || Text[E] == '-'))
      ++E;
    if (E < Text.size() && llvm::isDigit(Text[E])) {
      IsFloat = true;
      End = E;
      Digits();
    }
  }
  return make(IsFloat ? Tok::Float : Tok::Int, Begin, End);
}

const char *graphtext::tokName(Tok K) {
  switch (K) {
  case Tok::Eof: return "end of input";
  case Tok::Ident: return "an identifier";
  case Tok::ValueName: return "a %value";
  case Tok::GlobalName: return "an @name";
  case Tok::Int: return "an integer";
  case Tok::Float: return "a float";
  case Tok::Hex: return "hex data";
  case Tok::String: return "a string";
  case Tok::Elided: return "'...elided...'";
  case Tok::LParen: return "'('";
  case Tok::RParen: return "')'";
  case Tok::LBracket: return "'['";
  case Tok::RBracket: return "']'";
  case Tok::LBrace: return "'{'";
  case Tok::RBrace: return "'}'";
  case Tok::Less: return "'<'";
  case Tok::Greater: return "'>'";
  case Tok::Comma: return "','";
  case Tok::Colon: return "':'";
  case Tok::Semicolon: return "';'";
  case Tok::Equal: return "'='";
  case Tok::Arrow: return "'->'";
  case Tok::Bad: return "bad input";
  }
  return "?";
}
