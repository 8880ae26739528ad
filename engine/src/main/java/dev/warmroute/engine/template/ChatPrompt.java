package dev.warmroute.engine.template;

import java.util.List;

/** Assembles a prompt from stored token ids in the order {@link ChatTemplate} defines. */
public final class ChatPrompt {

    /** One committed exchange: the user's content ids and the ids the model generated (without the stop token). */
    public record Exchange(int[] user, int[] answer) {}

    private ChatPrompt() {}

    /**
     * The prompt for {@code newUser} after {@code exchanges} (those inside the window, oldest first). It ends with
     * the assistant header, ready for generation.
     */
    public static int[] assemble(ChatTemplate t, int[] system, List<Exchange> exchanges, int[] newUser) {
        Ints out = new Ints();
        out.add(t.conversationStart(system));
        boolean first = true;
        for (Exchange e : exchanges) {
            out.add(t.userBlock(e.user(), first));
            out.add(t.assistantHeader());
            out.add(e.answer());
            out.add(t.assistantFooter());
            first = false;
        }
        out.add(t.userBlock(newUser, first));
        out.add(t.assistantHeader());
        return out.toArray();
    }
}
