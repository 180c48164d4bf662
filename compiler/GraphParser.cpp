//===- GraphParser.cpp - Reading the graph IR text ------------------------===//
//
// Parses the text that GraphPrinter.cpp writes (the format is in docs/ir.md)
// back into a Graph, keeping every value name and node name exactly. The
// parser checks only what it must to build the graph (values defined before
// use, result counts, attribute syntax, tensor sizes); the caller runs
// verifyGraph() for the type rules. Errors carry `line:column`. The input
// may be any bytes (tests feed it truncated text): every path through the
// lexer bounds-checks, nothing recurses on input nesting, and no allocation
// is larger than the text itself justifies.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "compiler/Graph.h"
#include "compiler/GraphLexer.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include <cmath>
#include <cstdlib>
#include <limits>

using namespace tidal;
using namespace tidal::graphtext;

namespace {

/// Tensors and shapes must stay far below what fits in int64 bytes.
constexpr int64_t MaxElements = int64_t(1) << 48;

/// Recursive-descent parser over the token stream. Every parse function
/// returns false after recording the first error.
class Parser {
public:
  explicit Parser(llvm::StringRef Text) : Text(Text), Lex(Text) {
    Cur = Lex.next();
  }

  llvm::Expected<std::unique_ptr<Graph>> parse() {
    G = std::make_unique<Graph>();
    if (!parseGraph())
      return makeError(ErrMsg);
    return std::move(G);
  }

private:
  //===--- Token helpers ----------------------------------------------===//

  void consume() {
    if (Cur.Kind != Tok::Eof && Cur.Kind != Tok::Bad)
      Cur = Lex.next();
  }

  bool fail(size_t At, const llvm::Twine &Msg) {
    if (!ErrMsg.empty())
      return false;
    unsigned Line = 1, Col = 1;
    for (size_t I = 0; I < At && I < Text.size(); ++I) {
      if (Text[I] == '\n') {
        ++Line;
        Col = 1;
      } else {
        ++Col;
      }
    }
    ErrMsg = (llvm::Twine(Line) + ":" + llvm::Twine(Col) + ": " + Msg).str();
    return false;
  }

  /// Fails at the current token, naming what was expected.
  bool failExpected(const llvm::Twine &What) {
    if (Cur.Kind == Tok::Bad)
      return fail(Cur.Pos, Cur.Text);
    return failAtToken(Cur, What);
  }

  /// Fails at Tk, naming what was expected and what Tk is.
  bool failAtToken(const Token &Tk, const llvm::Twine &What) {
    std::string Found = Tk.Kind == Tok::Ident ? "'" + Tk.Text + "'"
                                              : std::string(tokName(Tk.Kind));
    return fail(Tk.Pos, "expected " + What + ", found " + Found);
  }

  bool expect(Tok K) {
    if (Cur.Kind != K)
      return failExpected(tokName(K));
    consume();
    return true;
  }

  bool consumeIf(Tok K) {
    if (Cur.Kind != K)
      return false;
    consume();
    return true;
  }

  bool expectKeyword(llvm::StringRef Word) {
    if (Cur.Kind != Tok::Ident || Cur.Text != Word)
      return failExpected("'" + Word + "'");
    consume();
    return true;
  }

  bool isKeyword(llvm::StringRef Word) const {
    return Cur.Kind == Tok::Ident && Cur.Text == Word;
  }

  /// Parses a comma-separated list (possibly empty) ended by Close, calling
  /// One for each element. Consumes Close.
  template <typename F> bool parseCommaList(Tok Close, F One) {
    if (consumeIf(Close))
      return true;
    do {
      if (!One())
        return false;
    } while (consumeIf(Tok::Comma));
    return expect(Close);
  }

  //===--- Numbers ----------------------------------------------------===//

  bool isNumber() const { return isNumberToken(Cur); }

  bool parseInt64(int64_t &V) {
    if (Cur.Kind != Tok::Int)
      return failExpected("an integer");
    if (llvm::StringRef(Cur.Text).getAsInteger(10, V))
      return fail(Cur.Pos, "integer out of range: " + Cur.Text);
    consume();
    return true;
  }

  bool parseFloat32(float &V) {
    if (!isNumber())
      return failExpected("a number");
    V = std::strtof(Cur.Text.c_str(), nullptr);
    consume();
    return true;
  }

  //===--- Types ------------------------------------------------------===//

  bool parseShape(std::vector<int64_t> &Shape) {
    if (!expect(Tok::LBracket))
      return false;
    int64_t Total = 1;
    return parseCommaList(Tok::RBracket, [&] {
      size_t At = Cur.Pos;
      int64_t D = 0;
      if (!parseInt64(D))
        return false;
      if (D < 0)
        return fail(At, "negative dimension");
      if (D > 0 && Total > MaxElements / D)
        return fail(At, "tensor too large");
      Total *= D;
      Shape.push_back(D);
      return true;
    });
  }

  /// `q(scale, ...; zero point, ...; axis)`.
  bool parseQuantization(Quantization &Q) {
    consume(); // q
    if (!expect(Tok::LParen))
      return false;
    if (Cur.Kind != Tok::Semicolon) {
      do {
        float S = 0;
        if (!parseFloat32(S))
          return false;
        Q.Scales.push_back(S);
      } while (consumeIf(Tok::Comma));
    }
    if (!expect(Tok::Semicolon))
      return false;
    if (Cur.Kind != Tok::Semicolon) {
      do {
        int64_t Z = 0;
        if (!parseInt64(Z))
          return false;
        Q.ZeroPoints.push_back(Z);
      } while (consumeIf(Tok::Comma));
    }
    if (!expect(Tok::Semicolon))
      return false;
    size_t At = Cur.Pos;
    int64_t Axis = 0;
    if (!parseInt64(Axis))
      return false;
    if (Axis < -1 || Axis > std::numeric_limits<int>::max())
      return fail(At, "bad quantization axis");
    Q.Axis = static_cast<int>(Axis);
    return expect(Tok::RParen);
  }

  bool parseType(TensorType &T) {
    if (Cur.Kind != Tok::Ident)
      return failExpected("a type");
    std::optional<ElemType> E = parseElemType(Cur.Text);
    if (!E)
      return fail(Cur.Pos, "unknown element type '" + Cur.Text + "'");
    consume();
    T = TensorType(*E, {});
    if (!parseShape(T.Shape))
      return false;
    if (isKeyword("q")) {
      Quantization Q;
      if (!parseQuantization(Q))
        return false;
      T.Quant = std::move(Q);
    }
    return true;
  }

  //===--- Attributes -------------------------------------------------===//

  static bool isNumberToken(const Token &Tk) {
    return Tk.Kind == Tok::Int || Tk.Kind == Tok::Float ||
           (Tk.Kind == Tok::Ident && (Tk.Text == "inf" || Tk.Text == "nan"));
  }

  /// Stores an integer element, checked against the element type's range.
  bool setIntElement(Tensor &T, int64_t I, const Token &Tk) {
    ElemType E = T.Type.Elem;
    if (E == ElemType::Bool && Tk.Kind == Tok::Ident &&
        (Tk.Text == "true" || Tk.Text == "false")) {
      T.setInt(I, Tk.Text == "true");
      return true;
    }
    if (Tk.Kind != Tok::Int)
      return failAtToken(Tk, "an integer");
    if (E == ElemType::U64) {
      uint64_t U = 0;
      if (llvm::StringRef(Tk.Text).getAsInteger(10, U))
        return fail(Tk.Pos, "value out of range for u64: " + Tk.Text);
      T.data<uint64_t>()[I] = U;
      return true;
    }
    int64_t V = 0;
    if (llvm::StringRef(Tk.Text).getAsInteger(10, V))
      return fail(Tk.Pos, "integer out of range: " + Tk.Text);
    int64_t Lo = INT64_MIN, Hi = INT64_MAX;
    unsigned Bits = elemBits(E);
    if (E == ElemType::Bool || E == ElemType::Bit)
      Lo = 0, Hi = 1;
    else if (isSignedInt(E) && Bits < 64)
      Lo = -(int64_t(1) << (Bits - 1)), Hi = (int64_t(1) << (Bits - 1)) - 1;
    else if (isUnsignedInt(E))
      Lo = 0, Hi = (int64_t(1) << Bits) - 1;
    if (V < Lo || V > Hi)
      return fail(Tk.Pos, "value " + llvm::Twine(V) + " out of range for " +
                              elemTypeName(E));
    T.setInt(I, V);
    return true;
  }

  /// Stores element I of T from a literal token.
  bool setElement(Tensor &T, int64_t I, const Token &Tk) {
    ElemType E = T.Type.Elem;
    if (!isFloat(E))
      return setIntElement(T, I, Tk);
    if (!isNumberToken(Tk))
      return failAtToken(Tk, "a number");
    if (E == ElemType::F64)
      T.data<double>()[I] = std::strtod(Tk.Text.c_str(), nullptr);
    else if (E == ElemType::F32)
      T.data<float>()[I] = std::strtof(Tk.Text.c_str(), nullptr);
    else
      T.setDouble(I, std::strtof(Tk.Text.c_str(), nullptr));
    return true;
  }

  bool parseHexData(Tensor &T) {
    size_t Want = static_cast<size_t>(T.Type.sizeInBytes());
    if (Cur.Text.size() != 2 * Want)
      return fail(Cur.Pos, "expected " + llvm::Twine(Want) +
                               " bytes of data for " + T.Type.str() +
                               ", found " + llvm::Twine(Cur.Text.size()) +
                               " hex digits");
    std::string Bytes = llvm::fromHex(Cur.Text);
    T.Bytes.assign(Bytes.begin(), Bytes.end());
    consume();
    return true;
  }

  /// `dense<TYPE: [e, ...]>` or `dense<TYPE: 0xHEX>`.
  bool parseDense(Attribute &A) {
    consume(); // dense
    Tensor T;
    if (!expect(Tok::Less) || !parseType(T.Type) || !expect(Tok::Colon))
      return false;
    if (Cur.Kind == Tok::Elided)
      return fail(Cur.Pos, "elided constant data cannot be parsed");
    if (Cur.Kind == Tok::Hex) {
      if (!parseHexData(T))
        return false;
    } else {
      if (Cur.Kind != Tok::LBracket)
        return failExpected("'[' or hex data");
      size_t At = Cur.Pos;
      consume();
      std::vector<Token> Elems;
      if (!parseCommaList(Tok::RBracket, [&] {
            if (!isNumberToken(Cur) && Cur.Kind != Tok::Ident)
              return failExpected("a tensor element");
            Elems.push_back(Cur);
            consume();
            return true;
          }))
        return false;
      if (static_cast<int64_t>(Elems.size()) != T.Type.numElements())
        return fail(At, "expected " + llvm::Twine(T.Type.numElements()) +
                            " elements for " + T.Type.str() + ", found " +
                            llvm::Twine(Elems.size()));
      T.Bytes.assign(T.Type.sizeInBytes(), 0);
      for (size_t I = 0; I < Elems.size(); ++I)
        if (!setElement(T, static_cast<int64_t>(I), Elems[I]))
          return false;
    }
    A = std::move(T);
    return expect(Tok::Greater);
  }

  bool parseList(Attribute &A) {
    consume(); // [
    if (consumeIf(Tok::RBracket)) {
      if (!expect(Tok::Colon))
        return false;
      if (isKeyword("i64"))
        A = std::vector<int64_t>();
      else if (isKeyword("f32"))
        A = std::vector<float>();
      else
        return failExpected("'i64' or 'f32' after an empty list");
      consume();
      return true;
    }
    std::vector<Token> Elems;
    bool AnyFloat = false;
    do {
      if (!isNumber())
        return failExpected("a number");
      AnyFloat |= Cur.Kind != Tok::Int;
      Elems.push_back(Cur);
      consume();
    } while (consumeIf(Tok::Comma));
    if (!expect(Tok::RBracket))
      return false;
    if (AnyFloat) {
      std::vector<float> L;
      for (const Token &E : Elems)
        L.push_back(std::strtof(E.Text.c_str(), nullptr));
      A = std::move(L);
      return true;
    }
    std::vector<int64_t> L;
    for (const Token &E : Elems) {
      int64_t V = 0;
      if (llvm::StringRef(E.Text).getAsInteger(10, V))
        return fail(E.Pos, "integer out of range: " + E.Text);
      L.push_back(V);
    }
    A = std::move(L);
    return true;
  }

  bool parseAttrValue(Attribute &A) {
    if (Cur.Kind == Tok::Int) {
      int64_t V = 0;
      if (!parseInt64(V))
        return false;
      A = V;
      return true;
    }
    if (isNumber()) {
      float F = 0;
      if (!parseFloat32(F))
        return false;
      A = F;
      return true;
    }
    if (Cur.Kind == Tok::String) {
      A = Cur.Text;
      consume();
      return true;
    }
    if (Cur.Kind == Tok::LBracket)
      return parseList(A);
    if (isKeyword("dense"))
      return parseDense(A);
    return failExpected("an attribute value");
  }

  bool parseAttrDict(AttrMap &Attrs) {
    consume(); // {
    return parseCommaList(Tok::RBrace, [&] {
      if (Cur.Kind != Tok::Ident && Cur.Kind != Tok::String)
        return failExpected("an attribute name");
      Token Name = Cur;
      consume();
      if (Attrs.count(Name.Text))
        return fail(Name.Pos, "duplicate attribute '" + Name.Text + "'");
      Attribute A;
      if (!expect(Tok::Equal) || !parseAttrValue(A))
        return false;
      Attrs.emplace(Name.Text, std::move(A));
      return true;
    });
  }

  //===--- Values and nodes -------------------------------------------===//

  /// Registers a new value name, which must not be taken yet.
  bool defineName(const Token &Name) {
    if (Name.Text.empty())
      return fail(Name.Pos, "empty value name");
    if (Values.count(Name.Text) || G->uniqueName(Name.Text) != Name.Text)
      return fail(Name.Pos, "redefinition of value %" + Name.Text);
    return true;
  }

  bool parseUse(Value *&V) {
    if (Cur.Kind != Tok::ValueName)
      return failExpected("a %value");
    auto It = Values.find(Cur.Text);
    if (It == Values.end())
      return fail(Cur.Pos, "use of undefined value %" + Cur.Text);
    V = It->second;
    consume();
    return true;
  }

  bool parseInput() {
    if (Cur.Kind != Tok::ValueName)
      return failExpected("a %value");
    Token Name = Cur;
    consume();
    TensorType T;
    if (!expect(Tok::Colon) || !parseType(T) || !defineName(Name))
      return false;
    auto V = std::make_unique<Value>(Name.Text, std::move(T));
    Values[Name.Text] = V.get();
    G->Inputs.push_back(std::move(V));
    return true;
  }

  bool parseNode() {
    std::vector<Token> ResultNames;
    if (Cur.Kind == Tok::ValueName) {
      do {
        if (Cur.Kind != Tok::ValueName)
          return failExpected("a %value");
        ResultNames.push_back(Cur);
        consume();
      } while (consumeIf(Tok::Comma));
      if (!expect(Tok::Equal))
        return false;
    }
    if (Cur.Kind != Tok::Ident)
      return failExpected("an operation name");
    Token OpTok = Cur;
    std::optional<OpKind> Kind = parseOpName(OpTok.Text);
    if (!Kind)
      return fail(OpTok.Pos, "unknown operation '" + OpTok.Text + "'");
    consume();
    std::vector<Value *> Operands;
    if (!expect(Tok::LParen) || !parseCommaList(Tok::RParen, [&] {
          Value *V;
          if (!parseUse(V))
            return false;
          Operands.push_back(V);
          return true;
        }))
      return false;
    AttrMap Attrs;
    if (Cur.Kind == Tok::LBrace && !parseAttrDict(Attrs))
      return false;
    std::vector<TensorType> Types;
    if (!ResultNames.empty()) {
      if (!expect(Tok::Colon))
        return false;
      do {
        TensorType T;
        if (!parseType(T))
          return false;
        Types.push_back(std::move(T));
      } while (consumeIf(Tok::Comma));
      if (Types.size() != ResultNames.size())
        return fail(OpTok.Pos, llvm::Twine(ResultNames.size()) +
                                   " results but " + llvm::Twine(Types.size()) +
                                   " result types");
    }
    std::string NodeName =
        ResultNames.empty() ? opName(*Kind).lower() : ResultNames[0].Text;
    if (isKeyword("loc")) {
      consume();
      if (!expect(Tok::LParen))
        return false;
      if (Cur.Kind != Tok::String)
        return failExpected("a string");
      NodeName = Cur.Text;
      consume();
      if (!expect(Tok::RParen))
        return false;
    }
    auto N = std::make_unique<Node>(*Kind, NodeName);
    N->Operands = std::move(Operands);
    N->Attrs = std::move(Attrs);
    for (size_t I = 0; I < ResultNames.size(); ++I) {
      if (!defineName(ResultNames[I]))
        return false;
      N->Results.push_back(std::make_unique<Value>(
          ResultNames[I].Text, Types[I], N.get(), static_cast<unsigned>(I)));
      Values[ResultNames[I].Text] = N->Results.back().get();
    }
    G->Nodes.push_back(std::move(N));
    return true;
  }

  bool parseGraph() {
    if (!expectKeyword("graph"))
      return false;
    if (Cur.Kind != Tok::GlobalName)
      return failExpected("the graph's @name");
    G->Name = Cur.Text;
    consume();
    if (!expect(Tok::LParen) ||
        !parseCommaList(Tok::RParen, [&] { return parseInput(); }))
      return false;
    std::vector<Token> Declared;
    if (!expect(Tok::Arrow) || !expect(Tok::LParen) ||
        !parseCommaList(Tok::RParen, [&] {
          if (Cur.Kind != Tok::ValueName)
            return failExpected("a %value");
          Declared.push_back(Cur);
          consume();
          return true;
        }))
      return false;
    if (!expect(Tok::LBrace))
      return false;
    while (!isKeyword("return"))
      if (!parseNode())
        return false;
    size_t ReturnPos = Cur.Pos;
    consume();
    if (Cur.Kind == Tok::ValueName) {
      do {
        Value *V;
        if (!parseUse(V))
          return false;
        G->Outputs.push_back(V);
      } while (consumeIf(Tok::Comma));
    }
    if (G->Outputs.size() != Declared.size())
      return fail(ReturnPos, "return has " + llvm::Twine(G->Outputs.size()) +
                                 " values but the signature declares " +
                                 llvm::Twine(Declared.size()));
    for (size_t I = 0; I < Declared.size(); ++I)
      if (Declared[I].Text != G->Outputs[I]->Name)
        return fail(Declared[I].Pos, "signature result %" + Declared[I].Text +
                                         " does not match returned %" +
                                         G->Outputs[I]->Name);
    if (!expect(Tok::RBrace))
      return false;
    if (Cur.Kind != Tok::Eof)
      return failExpected("end of input after the graph");
    return true;
  }

  llvm::StringRef Text;
  Lexer Lex;
  Token Cur;
  std::string ErrMsg;
  std::unique_ptr<Graph> G;
  std::map<std::string, Value *> Values;
};

} // namespace

llvm::Expected<std::unique_ptr<Graph>> tidal::parseGraph(llvm::StringRef Text) {
  return Parser(Text).parse();
}
