import * as acorn from "acorn";
import fs from "fs";
const src=fs.readFileSync(process.argv[2],"utf8");
const ast=acorn.parse(src,{ecmaVersion:5});
const rows=[];
for(const st of ast.body){
  let name, node=st;
  if(st.type==="FunctionDeclaration") name=st.id.name;
  else if(st.type==="ExpressionStatement"&&st.expression.type==="SequenceExpression"){
    for(const e of st.expression.expressions){ rows.push([src.slice(e.start,e.start+30).split("=")[0], e.end-e.start]); } continue;}
  else name=src.slice(st.start,st.start+30);
  rows.push([name, st.end-st.start]);
}
rows.sort((a,b)=>b[1]-a[1]); for(const r of rows) console.log(String(r[1]).padStart(6), r[0]);
