#!/usr/bin/env python3
"""Renders the chat-template test cases with Python's Jinja2 the way Hugging Face transformers does
(trim_blocks, lstrip_blocks, loopcontrols, raise_exception, transformers' tojson) and writes the
expected outputs that chat/src/test/.../JinjaTemplateOracleTest compares Jinjava's renders against.

    python3 scripts/chat-template-oracle.py > chat/src/test/resources/dev/panllama/chat/jinja2-oracle.json

Needs jinja2 (tested with 3.1.6). Template sources are read beside the output: chat-template-cases.json
(small templates written for these tests, plus the two real ones in llama.cpp's vocab files) and
llama-cpp-chat-templates.json (the public models' templates of llama.cpp's test-chat-template, rendered
here with its conversation).
"""
import json
import pathlib
import sys

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = pathlib.Path(__file__).resolve().parent.parent / "chat/src/test/resources/dev/panllama/chat"


class TemplateRaised(Exception):
    pass


def raise_exception(message):
    raise TemplateRaised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def render(compiled, messages, bos, eos, gen):
    try:
        return {"expected": compiled.render(messages=messages, bos_token=bos, eos_token=eos, add_generation_prompt=gen)}
    except TemplateRaised as e:
        return {"raises": str(e)}


def main():
    spec = json.loads((HERE / "chat-template-cases.json").read_text(encoding="utf-8"))
    llama_cpp = json.loads((HERE / "llama-cpp-chat-templates.json").read_text(encoding="utf-8"))
    env = environment()
    out = []
    for case in llama_cpp["cases"]:
        compiled = env.from_string(case["template"])
        result = {"template": case["name"], "conversation": "llama.cpp", "add_generation_prompt": True}
        try:
            result.update(render(compiled, llama_cpp["conversation"], case["bos_token"], case["eos_token"], True))
        except jinja2.exceptions.UndefinedError as e:      # e.g. GigaChat's additional_special_tokens
            result["undefined"] = str(e)
        out.append(result)
    for template in spec["templates"]:
        compiled = env.from_string(template["source"])
        for conv_name in template["conversations"]:
            for gen in (False, True):
                messages = spec["conversations"][conv_name]
                case = {"template": template["name"], "conversation": conv_name, "add_generation_prompt": gen}
                case.update(render(compiled, messages, template["bos_token"], template["eos_token"], gen))
                out.append(case)
    json.dump({"generator": "scripts/chat-template-oracle.py, jinja2 " + jinja2.__version__, "cases": out},
              sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
