//===- GraphPrinter.cpp - The graph IR as text ----------------------------===//
//
// Prints a Graph in the text format that GraphParser.cpp reads back (see
// docs/ir.md). The format is designed so that print -> parse -> print gives
// the same bytes: attributes come out sorted (AttrMap is ordered), floats
// are printed with the fewest digits that still read back as the same
// float32 and always carry a '.' or an exponent (so they never look like
// integers), empty lists carry a type marker, and small tensors print their
// elements while larger ones print their raw little-endian bytes in hex.
//
//===----------------------------------------------------------------------===//

#include "compiler/Graph.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace tidal;

namespace {

/// Tensors up to this many elements print their elements; larger ones hex.
constexpr int64_t MaxListedElements = 16;

/// Characters allowed in an unquoted %name / @name / attribute name.
bool isBareNameChar(char C) {
  return llvm::isAlnum(C) || C == '_' || C == '.' || C == '$' || C == '-' ||
         C == '/';
}

bool isBareName(llvm::StringRef S) {
  if (S.empty() || S.contains("//"))
    return false;
  for (char C : S)
    if (!isBareNameChar(C))
      return false;
  return true;
}

/// A double-quoted string with C-style escapes (\\, \", \n, \t, else \XX hex).
void printQuoted(llvm::StringRef S, llvm::raw_ostream &OS) {
  OS << '"';
  for (unsigned char C : S) {
    if (C == '\\' || C == '"')
      OS << '\\' << C;
    else if (C == '\n')
      OS << "\\n";
    else if (C == '\t')
      OS << "\\t";
    else if (C < 0x20 || C >= 0x7f)
      OS << '\\' << llvm::hexdigit(C >> 4) << llvm::hexdigit(C & 15);
    else
      OS << C;
  }
  OS << '"';
}

void printName(llvm::StringRef S, llvm::raw_ostream &OS) {
  if (isBareName(S))
    OS << S;
  else
    printQuoted(S, OS);
}

void printValueRef(const Value *V, llvm::raw_ostream &OS) {
  OS << '%';
  if (!V) {
    OS << "<<null>>";
    return;
  }
  printName(V->Name, OS);
}

/// Appends ".0" when a printed number would otherwise read as an integer.
std::string markAsFloat(std::string S) {
  if (S.find_first_of(".eEna") == std::string::npos)
    S += ".0";
  return S;
}

std::string formatSpecial(double V) {
  if (std::isnan(V))
    return std::signbit(V) ? "-nan" : "nan";
  return V < 0 ? "-inf" : "inf";
}

/// The shortest text (6 to 9 significant digits) that reads back as F.
std::string formatFloat32(float F) {
  if (!std::isfinite(F))
    return formatSpecial(F);
  char Buf[64];
  for (int Digits = 6; Digits <= 9; ++Digits) {
    std::snprintf(Buf, sizeof(Buf), "%.*g", Digits, static_cast<double>(F));
    float Back = std::strtof(Buf, nullptr);
    if (std::memcmp(&Back, &F, sizeof(float)) == 0)
      break;
  }
  return markAsFloat(Buf);
}

/// The shortest text (15 to 17 significant digits) that reads back as D.
std::string formatFloat64(double D) {
  if (!std::isfinite(D))
    return formatSpecial(D);
  char Buf[64];
  for (int Digits = 15; Digits <= 17; ++Digits) {
    std::snprintf(Buf, sizeof(Buf), "%.*g", Digits, D);
    double Back = std::strtod(Buf, nullptr);
    if (std::memcmp(&Back, &D, sizeof(double)) == 0)
      break;
  }
  return markAsFloat(Buf);
}

void printTensorElement(const Tensor &T, int64_t I, llvm::raw_ostream &OS) {
  switch (T.Type.Elem) {
  case ElemType::F32:
    OS << formatFloat32(T.data<float>()[I]);
    return;
  case ElemType::F16:
    OS << formatFloat32(static_cast<float>(T.getDouble(I)));
    return;
  case ElemType::F64:
    OS << formatFloat64(T.data<double>()[I]);
    return;
  case ElemType::U64:
    OS << T.data<uint64_t>()[I];
    return;
  case ElemType::Bool:
    OS << (T.getInt(I) ? "true" : "false");
    return;
  default:
    OS << T.getInt(I);
    return;
  }
}

void printTensor(const Tensor &T, llvm::raw_ostream &OS,
                 const GraphPrintOptions &Opts) {
  OS << "dense<" << T.Type.str() << ": ";
  int64_t N = T.Type.numElements();
  if (Opts.ElideConstantsAbove > 0 && N > Opts.ElideConstantsAbove) {
    OS << "...elided...>";
    return;
  }
  if (N <= MaxListedElements &&
      static_cast<int64_t>(T.Bytes.size()) >= T.Type.sizeInBytes()) {
    OS << '[';
    for (int64_t I = 0; I < N; ++I) {
      if (I)
        OS << ", ";
      printTensorElement(T, I, OS);
    }
    OS << "]>";
    return;
  }
  OS << "0x";
  for (uint8_t B : T.Bytes)
    OS << llvm::hexdigit(B >> 4) << llvm::hexdigit(B & 15);
  OS << '>';
}

template <typename T, typename F>
void printList(const std::vector<T> &L, llvm::StringRef EmptyMarker,
               llvm::raw_ostream &OS, F PrintOne) {
  if (L.empty()) {
    OS << "[] : " << EmptyMarker;
    return;
  }
  OS << '[';
  for (size_t I = 0; I < L.size(); ++I) {
    if (I)
      OS << ", ";
    PrintOne(L[I]);
  }
  OS << ']';
}

void printAttribute(const Attribute &A, llvm::raw_ostream &OS,
                    const GraphPrintOptions &Opts) {
  if (auto *I = std::get_if<int64_t>(&A))
    OS << *I;
  else if (auto *F = std::get_if<float>(&A))
    OS << formatFloat32(*F);
  else if (auto *S = std::get_if<std::string>(&A))
    printQuoted(*S, OS);
  else if (auto *IL = std::get_if<std::vector<int64_t>>(&A))
    printList(*IL, "i64", OS, [&](int64_t V) { OS << V; });
  else if (auto *FL = std::get_if<std::vector<float>>(&A))
    printList(*FL, "f32", OS, [&](float V) { OS << formatFloat32(V); });
  else
    printTensor(std::get<Tensor>(A), OS, Opts);
}

void printAttributes(const AttrMap &Attrs, llvm::raw_ostream &OS,
                     const GraphPrintOptions &Opts) {
  if (Attrs.empty())
    return;
  OS << " {";
  bool First = true;
  for (const auto &[Name, A] : Attrs) {
    if (!First)
      OS << ", ";
    First = false;
    printName(Name, OS);
    OS << " = ";
    printAttribute(A, OS, Opts);
  }
  OS << '}';
}

void printNode(const Node &N, llvm::raw_ostream &OS,
               const GraphPrintOptions &Opts) {
  OS << "  ";
  for (size_t I = 0; I < N.Results.size(); ++I) {
    if (I)
      OS << ", ";
    printValueRef(N.Results[I].get(), OS);
  }
  if (!N.Results.empty())
    OS << " = ";
  OS << opName(N.Kind) << '(';
  for (size_t I = 0; I < N.Operands.size(); ++I) {
    if (I)
      OS << ", ";
    printValueRef(N.Operands[I], OS);
  }
  OS << ')';
  printAttributes(N.Attrs, OS, Opts);
  for (size_t I = 0; I < N.Results.size(); ++I)
    OS << (I ? ", " : " : ") << N.Results[I]->Type.str();
  OS << " loc(";
  printQuoted(N.Name, OS);
  OS << ")\n";
}

} // namespace

void tidal::printGraph(const Graph &G, llvm::raw_ostream &OS,
                       const GraphPrintOptions &Opts) {
  OS << "graph @";
  printName(G.Name, OS);
  OS << '(';
  for (size_t I = 0; I < G.Inputs.size(); ++I) {
    if (I)
      OS << ", ";
    printValueRef(G.Inputs[I].get(), OS);
    OS << ": " << G.Inputs[I]->Type.str();
  }
  OS << ") -> (";
  for (size_t I = 0; I < G.Outputs.size(); ++I) {
    if (I)
      OS << ", ";
    printValueRef(G.Outputs[I], OS);
  }
  OS << ") {\n";
  for (const auto &N : G.Nodes)
    printNode(*N, OS, Opts);
  OS << "  return";
  for (size_t I = 0; I < G.Outputs.size(); ++I) {
    OS << (I ? ", " : " ");
    printValueRef(G.Outputs[I], OS);
  }
  OS << "\n}\n";
}
