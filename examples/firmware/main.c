/* main.c - firmware that runs examples/classifier.onnx, compiled by tidalc
 * as `classifier` (classifier.o, classifier.h) through tools/tidal.mk.
 *
 * Every buffer is a static array sized by the header's macros: the model
 * allocates nothing, and the image has no heap. It prints the same lines as
 * examples/main.c (examples/expected_output.txt).
 */
#include "board.h"
#include "classifier.h"

static float image[CLASSIFIER_INPUT0_NUM_ELEMENTS];
static float probs[CLASSIFIER_OUTPUT0_NUM_ELEMENTS];
static unsigned char
    workspace[CLASSIFIER_WORKSPACE_SIZE > 0 ? CLASSIFIER_WORKSPACE_SIZE : 1]
    __attribute__((aligned(CLASSIFIER_WORKSPACE_ALIGN)));

_Static_assert(CLASSIFIER_INPUT0_TYPE == TIDAL_TYPE_F32, "the image is f32");
_Static_assert(CLASSIFIER_OUTPUT0_TYPE == TIDAL_TYPE_F32, "probs are f32");

int main(void) {
  /* The test pattern of examples/main.c. */
  for (int i = 0; i < CLASSIFIER_INPUT0_NUM_ELEMENTS; ++i)
    image[i] = (float)((i * 37) % 17) / 16.0f - 0.5f;

  const void *const inputs[CLASSIFIER_NUM_INPUTS] = {image};
  void *const outputs[CLASSIFIER_NUM_OUTPUTS] = {probs};
  if (classifier_run(inputs, outputs, workspace) != 0) {
    board_puts("classifier_run failed\n");
    return 1;
  }
  int best = 0;
  for (int k = 0; k < CLASSIFIER_OUTPUT0_NUM_ELEMENTS; ++k) {
    board_puts("class ");
    board_put_int(k);
    board_puts(": ");
    board_put_fixed(probs[k], 6);
    board_puts("\n");
    if (probs[k] > probs[best])
      best = k;
  }
  board_puts("predicted class: ");
  board_put_int(best);
  board_puts("\n");
  return 0;
}
